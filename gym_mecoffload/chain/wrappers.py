"""Wrappers of the chain envs: the paper's joint action, one ``Discrete(3**n)`` action per
whole decision, and its encoding."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_mecoffload.core.checks import check_count, holds_integers_below
from gym_mecoffload.core.topology import N_PLACES


class JointActionWrapper(gym.ActionWrapper):
    """`Discrete(3**n)` actions for `MecOffloadOneShot-v0`: one action per whole decision.

    The paper's DRL formulation. Action ``a`` is the decision whose base-3 digits,
    most significant first, are the places of subtasks 0 .. n - 1.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = env.action_space
        if not (
            isinstance(space, spaces.MultiDiscrete) and (np.asarray(space.nvec) == N_PLACES).all()
        ):
            raise ValueError(
                f"JointActionWrapper needs a MultiDiscrete([3] * n) action space; got {space}"
            )
        self.n_subtasks = _check_joint_subtasks(len(space.nvec))
        self.action_space = spaces.Discrete(N_PLACES**self.n_subtasks)

    def action(self, action: Any) -> np.ndarray:
        value = np.asarray(action)
        if value.shape != () or not holds_integers_below(value, self.action_space.n):
            raise ValueError(
                f"action must be an integer in [0, {self.action_space.n - 1}]; got {action!r}"
            )
        return decode_joint_actions(value[None], self.n_subtasks)[0]


# 3**39 < 2**63 <= 3**40: joint actions of more subtasks do not fit in an int64.
MAX_JOINT_SUBTASKS = 39


def _check_joint_subtasks(n_subtasks: Any) -> int:
    why = " for joint actions (3**n must fit in an int64)"
    return check_count("n_subtasks", n_subtasks, 1, MAX_JOINT_SUBTASKS, why)


def decode_joint_actions(actions: np.ndarray, n_subtasks: int) -> np.ndarray:
    """Joint actions (N,) to decisions (N, n): base-3 digits, most significant first.

    Actions must be integers in [0, 3**n); n at most ``MAX_JOINT_SUBTASKS``.
    """
    n_subtasks = _check_joint_subtasks(n_subtasks)
    actions = np.asarray(actions)
    high = N_PLACES**n_subtasks
    if actions.ndim != 1 or not holds_integers_below(actions, high):
        raise ValueError(
            f"actions must be a 1-D integer array of joint actions in [0, {high - 1}] for "
            f"{n_subtasks} subtasks; got {actions!r}"
        )
    powers = N_PLACES ** np.arange(n_subtasks - 1, -1, -1, dtype=np.int64)
    return (actions.astype(np.int64)[:, None] // powers) % N_PLACES


def encode_joint_actions(decisions: np.ndarray) -> np.ndarray:
    """Decisions (N, n) to joint actions (N,): the inverse of :func:`decode_joint_actions`.

    Decisions must be integer places in {0, 1, 2}; n at most ``MAX_JOINT_SUBTASKS``.
    """
    decisions = np.asarray(decisions)
    if decisions.ndim != 2 or not holds_integers_below(decisions, N_PLACES):
        raise ValueError(
            "decisions must be a 2-D (N, n) integer array of places 0 (device), 1 (edge) "
            f"or 2 (cloud); got {decisions!r}"
        )
    n_subtasks = _check_joint_subtasks(decisions.shape[1])
    powers = N_PLACES ** np.arange(n_subtasks - 1, -1, -1, dtype=np.int64)
    return decisions.astype(np.int64) @ powers
