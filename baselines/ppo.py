"""PPO (SB3) per subtask on ``MecOffload-v0``, over the native vector env.

Not one of the paper's baselines: it is here to measure what the env's
``reward_mode`` does to an on-policy learner with a value function, the case
the scale-free reward is for. Hyperparameters live in :mod:`baselines.config`;
inputs are standardised with statistics of the training tasks, as for DQN.
"""

from __future__ import annotations

import tempfile
import time
import warnings

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.logger import configure as configure_logger
from torch import nn
from tqdm import TqdmExperimentalWarning

from baselines import config
from baselines.dil import TrainingHistory
from baselines.networks import StandardizeExtractor, observation_statistics, to_network_policy
from baselines.policies import NetworkPolicy
from baselines.vec_env import MecOffloadSB3VecEnv
from gym_mecoffload.envs.tasks import RewardMode
from gym_mecoffload.model import DEVICE, Scenario, as_scenario, features, n_features
from gym_mecoffload.observations import SequentialLayout


def train_ppo(
    *,
    n_subtasks: int = 6,
    scenario: str | Scenario = "paper",
    timesteps: int = config.PPO_TIMESTEPS,
    n_envs: int = config.PPO_N_ENVS,
    hidden: tuple[int, ...] = config.PPO_HIDDEN,
    reward_mode: RewardMode = "relative",
    rng: np.random.Generator,
    name: str = "ppo",
    progress: bool = True,
) -> tuple[NetworkPolicy, TrainingHistory]:
    """Train SB3's PPO on ``n_envs`` sub-envs; returns its deterministic (argmax) actor."""
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1; got {timesteps}")
    seed = int(rng.integers(2**31))
    env = MecOffloadSB3VecEnv(
        "MecOffload-v0", n_envs, n_subtasks=n_subtasks, scenario=scenario, reward_mode=reward_mode
    )
    sample = as_scenario(scenario).sample(10_000, n_subtasks, rng=rng)
    observations = SequentialLayout(n_subtasks).build(features(sample), 0, DEVICE)
    statistics = observation_statistics(observations, n_features(n_subtasks))
    with tempfile.TemporaryDirectory() as logdir:
        model = PPO(
            "MlpPolicy",
            env,
            **config.PPO,
            policy_kwargs={
                "net_arch": {"pi": list(hidden), "vf": list(hidden)},
                "activation_fn": nn.ReLU,
                "features_extractor_class": StandardizeExtractor,
                "features_extractor_kwargs": statistics,
            },
            seed=seed,
            device="cpu",
            verbose=0,
        )
        model.set_logger(configure_logger(logdir, format_strings=[]))
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=TqdmExperimentalWarning)
            model.learn(total_timesteps=timesteps, progress_bar=progress)
        seconds = time.perf_counter() - started
    policy = to_network_policy(name, model.policy, "sequential", n_subtasks)
    return policy, TrainingHistory(seconds=seconds)
