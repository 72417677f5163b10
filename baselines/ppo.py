"""PPO (SB3) per subtask on ``MecOffload-v0``, over the native vector env.

Not one of the paper's baselines: it is here to measure what the env's
``reward_mode`` does to an on-policy learner with a value function, the case
the scale-free reward is for. Hyperparameters live in :mod:`baselines.config`;
inputs are standardised with statistics of the training tasks, as for DQN.
"""

from __future__ import annotations

import numpy as np
from stable_baselines3 import PPO
from torch import nn

from baselines import config
from baselines.dil import TrainingHistory
from baselines.networks import (
    StandardizeExtractor,
    learn_quietly,
    task_statistics,
    to_network_policy,
)
from baselines.policies import NetworkPolicy
from baselines.vec_env import MecOffloadSB3VecEnv
from gym_mecoffload.chain.model import sample_states
from gym_mecoffload.core.episodes import RewardMode
from gym_mecoffload.core.scenario import Scenario


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
    sample = sample_states(10_000, scenario=scenario, n_subtasks=n_subtasks, rng=rng)
    model = PPO(
        "MlpPolicy",
        env,
        **config.PPO,
        policy_kwargs={
            "net_arch": {"pi": list(hidden), "vf": list(hidden)},
            "activation_fn": nn.ReLU,
            "features_extractor_class": StandardizeExtractor,
            "features_extractor_kwargs": task_statistics(sample, sequential=True),
        },
        seed=seed,
        device="cpu",
        verbose=0,
    )
    seconds = learn_quietly(model, timesteps, progress=progress)
    policy = to_network_policy(name, model.policy, "sequential", n_subtasks)
    return policy, TrainingHistory(seconds=seconds)
