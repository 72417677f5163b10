"""SB3 networks for training, and their conversion to :class:`~baselines.policies.NetworkPolicy`."""

from __future__ import annotations

import copy
import tempfile
import time
import warnings

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import configure as configure_logger
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn
from tqdm import TqdmExperimentalWarning

from baselines.policies import Kind, NetworkPolicy, Standardize
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.chain.observations import SequentialLayout, features, n_features
from gym_mecoffload.core.topology import DEVICE


class StandardizeExtractor(BaseFeaturesExtractor):
    """SB3 features extractor that standardises observations with fixed statistics."""

    def __init__(
        self, observation_space: gym.spaces.Box, mean: np.ndarray, std: np.ndarray
    ) -> None:
        super().__init__(observation_space, features_dim=int(np.prod(observation_space.shape)))
        self.standardize = Standardize(mean, std)

    def forward(self, observations):
        return self.standardize(observations)


def observation_statistics(observations: np.ndarray, n_scaled: int) -> dict[str, np.ndarray]:
    """Mean and std of the first ``n_scaled`` columns; the rest (one-hot) pass unchanged."""
    fitted = Standardize.fit(observations[:, :n_scaled])
    mean = np.zeros(observations.shape[1], dtype=np.float32)
    std = np.ones(observations.shape[1], dtype=np.float32)
    mean[:n_scaled], std[:n_scaled] = fitted.mean.numpy(), fitted.std.numpy()
    return {"mean": mean, "std": std}


def task_statistics(tasks: TaskBatch, *, sequential: bool) -> dict[str, np.ndarray]:
    """:func:`observation_statistics` of the tasks' first observations: ``MecOffload-v0``'s
    if ``sequential``, else S alone (the one-shot env's)."""
    x = features(tasks)
    if sequential:
        x = SequentialLayout(tasks.n_subtasks).build(x, 0, DEVICE)
    return observation_statistics(x, n_features(tasks.n_subtasks))


def learn_quietly(model: BaseAlgorithm, timesteps: int, *, progress: bool) -> float:
    """``model.learn`` with SB3's logger writing nothing; returns the seconds it took."""
    with tempfile.TemporaryDirectory() as logdir:
        model.set_logger(configure_logger(logdir, format_strings=[]))
        started = time.perf_counter()
        with warnings.catch_warnings():
            # SB3 draws its bar with tqdm.rich, which warns that it is experimental.
            warnings.filterwarnings("ignore", category=TqdmExperimentalWarning)
            model.learn(total_timesteps=timesteps, progress_bar=progress)
        return time.perf_counter() - started


def actor_critic_policy(
    observation_space: gym.spaces.Box,
    action_space: gym.spaces.Space,
    hidden: tuple[int, ...],
    statistics: dict[str, np.ndarray],
) -> ActorCriticPolicy:
    """An SB3 policy for imitation's BC: standardise, then ``hidden`` ReLU layers, then logits.

    ``vf=[]`` keeps the value head (which BC never trains) to a single Linear layer.
    """
    return ActorCriticPolicy(
        observation_space,
        action_space,
        lr_schedule=lambda _: 1e-3,  # BC builds its own optimizer
        net_arch={"pi": list(hidden), "vf": []},
        activation_fn=nn.ReLU,
        features_extractor_class=StandardizeExtractor,
        features_extractor_kwargs=statistics,
    )


def actor_as_sequential(policy: ActorCriticPolicy) -> nn.Sequential:
    """The decision path of an SB3 actor-critic policy as plain layers (copied)."""
    layers = [
        policy.features_extractor.standardize,
        *policy.mlp_extractor.policy_net,
        policy.action_net,
    ]
    return copy.deepcopy(nn.Sequential(*layers)).cpu()


def to_network_policy(
    name: str, policy: ActorCriticPolicy, kind: Kind, n_subtasks: int
) -> NetworkPolicy:
    """Freeze a trained SB3 actor into a :class:`NetworkPolicy`."""
    return NetworkPolicy(name, actor_as_sequential(policy), kind, n_subtasks)
