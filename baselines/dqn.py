"""DQN (SB3) as the paper's DRL baseline, in two formulations.

* ``"sequential"``: on ``MecOffload-v0``, one action per subtask (3 actions,
  n steps per task);
* ``"joint"``: the paper's formulation, on ``MecOffloadOneShot-v0`` through
  ``JointActionWrapper``, one action per whole decision (3**n actions, one step).

Hyperparameters live in :mod:`baselines.config`. Inputs are standardised with
statistics of the training tasks, as for DIL.
"""

from __future__ import annotations

import copy
from typing import Literal

import gymnasium as gym
import numpy as np
from stable_baselines3 import DQN
from torch import nn

from baselines import config
from baselines.dil import TrainingHistory
from baselines.networks import StandardizeExtractor, learn_quietly, task_statistics
from baselines.policies import NetworkPolicy
from baselines.vec_env import MecOffloadSB3VecEnv
from gym_mecoffload.chain.model import TaskBatch, sample_states
from gym_mecoffload.chain.wrappers import JointActionWrapper
from gym_mecoffload.channels import Channel
from gym_mecoffload.core.episodes import RewardMode
from gym_mecoffload.core.scenario import Scenario

Formulation = Literal["sequential", "joint"]


def make_env(
    formulation: Formulation,
    n_subtasks: int,
    scenario: str | Scenario,
    task_pool: TaskBatch | None,
    *,
    n_envs: int = 1,
    reward_mode: RewardMode = "absolute",
    channel: str | Channel = "static",
    outage_probability: float = 0.0,
) -> gym.Env | MecOffloadSB3VecEnv:
    """The training env of a formulation: tasks from ``scenario``, or from ``task_pool`` if given.

    One env is a gymnasium env (SB3 wraps it in a ``DummyVecEnv``); ``n_envs > 1``
    gives an SB3 ``VecEnv`` over the native vector env, stepped in numpy.
    """
    if formulation not in ("sequential", "joint"):
        raise ValueError(f"formulation must be 'sequential' or 'joint'; got {formulation!r}")
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"n_envs must be an integer >= 1; got {n_envs!r}")
    env_id = "MecOffload-v0" if formulation == "sequential" else "MecOffloadOneShot-v0"
    kwargs = {
        "n_subtasks": n_subtasks,
        "scenario": scenario,
        "task_pool": task_pool,
        "reward_mode": reward_mode,
        "channel": channel,
        "outage_probability": outage_probability,
    }
    if n_envs > 1:
        return MecOffloadSB3VecEnv(env_id, n_envs, joint_actions=formulation == "joint", **kwargs)
    env = gym.make(env_id, **kwargs)
    return env if formulation == "sequential" else JointActionWrapper(env)


def train_dqn(
    formulation: Formulation = "sequential",
    *,
    n_subtasks: int = 6,
    scenario: str | Scenario = "paper",
    task_pool: TaskBatch | None = None,
    timesteps: int | None = None,
    hidden: tuple[int, ...] = config.DQN_HIDDEN,
    n_envs: int = config.DQN_N_ENVS,
    reward_mode: RewardMode = config.DQN_REWARD_MODE,
    channel: str | Channel = "static",
    outage_probability: float = 0.0,
    rng: np.random.Generator,
    name: str | None = None,
    progress: bool = True,
) -> tuple[NetworkPolicy, TrainingHistory]:
    """Train SB3's DQN on the offloading env; returns its greedy Q policy.

    Args:
        formulation: ``"sequential"`` (3 actions per subtask) or ``"joint"`` (3**n).
        task_pool: train on these tasks only (Fig. 6's 1K states) instead of ``scenario``.
        timesteps: env steps, all sub-envs together (default ``config.DQN_TIMESTEPS``
            or ``DQN_JOINT_TIMESTEPS``).
        n_envs: sub-envs stepped together (``n_envs > 1``: the native vector env).
        reward_mode: the env's ``"absolute"`` (seconds) or ``"relative"`` (over the
            optimal cost) rewards.
        channel, outage_probability: the env's channel (SPEC-CHANNELS); static and
            reliable by default, the paper's.
    """
    default = config.DQN_TIMESTEPS if formulation == "sequential" else config.DQN_JOINT_TIMESTEPS
    timesteps = default if timesteps is None else timesteps
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1; got {timesteps}")
    seed = int(rng.integers(2**31))
    env = make_env(
        formulation,
        n_subtasks,
        scenario,
        task_pool,
        n_envs=n_envs,
        reward_mode=reward_mode,
        channel=channel,
        outage_probability=outage_probability,
    )
    if n_envs == 1:
        env.reset(seed=seed)
    else:
        env.seed(seed)
    sample = (
        task_pool
        if task_pool is not None
        else sample_states(10_000, scenario=scenario, n_subtasks=n_subtasks, rng=rng)
    )
    statistics = task_statistics(sample, sequential=formulation == "sequential")
    model = DQN(
        "MlpPolicy",
        env,
        **config.DQN,
        policy_kwargs={
            "net_arch": list(hidden),
            "features_extractor_class": StandardizeExtractor,
            "features_extractor_kwargs": statistics,
        },
        seed=seed,
        device="cpu",
        tensorboard_log=None,
        verbose=0,
    )
    seconds = learn_quietly(model, timesteps, progress=progress)
    net = _q_network_as_sequential(model)
    kind = "sequential" if formulation == "sequential" else "joint"
    policy_name = name or ("dqn" if formulation == "sequential" else "dqn_joint")
    return NetworkPolicy(policy_name, net, kind, n_subtasks), TrainingHistory(seconds=seconds)


def _q_network_as_sequential(model: DQN) -> nn.Sequential:
    """The greedy path of the trained Q-network as plain layers (copied)."""
    q_net = model.q_net
    return copy.deepcopy(nn.Sequential(q_net.features_extractor.standardize, *q_net.q_net)).cpu()
