"""Stable-Baselines3's ``VecEnv`` over the package's native vector envs.

SB3 steps its vector envs in its own convention: infos as one dict per
sub-env, the last observation of a finished episode in
``info["terminal_observation"]``, the next episode started on the same step.
:class:`MecOffloadSB3VecEnv` gives exactly that over any registered id's native
vector env (the core's ``EpisodesVectorEnv``, stepped in its same-step mode), so
SB3's DQN and PPO train on N sub-envs stepped together in numpy instead of N
Python envs in a ``DummyVecEnv``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from gym_mecoffload import VECTOR_ENTRY_POINTS
from gym_mecoffload.chain.wrappers import decode_joint_actions
from gym_mecoffload.core.topology import N_PLACES


class MecOffloadSB3VecEnv(VecEnv):
    """An SB3 ``VecEnv`` of ``n_envs`` sub-envs of ``env_id``, stepped in numpy.

    Args:
        env_id: a registered id whose native vector env is on the core's adapters
            (``gym_mecoffload.ENV_IDS``, or another family's with a ``vector_entry_point``).
        n_envs: sub-envs.
        joint_actions: for ``MecOffloadOneShot-v0``, one ``Discrete(3**n)`` action per
            whole decision (as ``JointActionWrapper``), the paper's DQN.
        env_kwargs: the env's keyword arguments (see its docstring), as ``gym.make``'s.
    """

    def __init__(
        self, env_id: str, n_envs: int, *, joint_actions: bool = False, **env_kwargs: Any
    ) -> None:
        entry_point = VECTOR_ENTRY_POINTS.get(env_id)
        if entry_point is None and env_id in gym.registry:
            entry_point = getattr(gym.spec(env_id), "vector_entry_point", None)
        if entry_point is None:
            raise ValueError(
                f"env_id must be a registered id with a native vector env (a vector_entry_point"
                f" on the core's adapters), e.g. {sorted(VECTOR_ENTRY_POINTS)}; got {env_id!r}"
            )
        if joint_actions and env_id != "MecOffloadOneShot-v0":
            raise ValueError("joint_actions needs env_id='MecOffloadOneShot-v0'")
        if callable(entry_point):
            vector_class = entry_point
        else:
            module, name = entry_point.split(":")
            vector_class = getattr(importlib.import_module(module), name)
        self.vector = vector_class(num_envs=n_envs, autoreset_mode="same_step", **env_kwargs)
        self.joint_actions = joint_actions
        action_space = self.vector.single_action_space
        if joint_actions:
            action_space = spaces.Discrete(N_PLACES**self.vector.n_subtasks)
        super().__init__(self.vector.num_envs, self.vector.single_observation_space, action_space)
        self._actions: np.ndarray | None = None

    def reset(self) -> VecEnvObs:
        options = self._options[0] or None
        observations, _ = self.vector.reset(seed=self._seeds[0], options=options)
        self._reset_seeds()
        self._reset_options()
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions)
        if self.joint_actions:
            actions = decode_joint_actions(actions, self.vector.n_subtasks)
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, dones, last, final = self.vector.step_same_step(self._actions)
        if final is None:
            infos = [{"TimeLimit.truncated": False} for _ in range(self.num_envs)]
        else:
            infos = self.vector.final_info_dicts(final)
            for info, observation in zip(infos, last, strict=True):
                info["terminal_observation"] = observation
                info["TimeLimit.truncated"] = False
        return observations, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.vector.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            return [None] * self.num_envs
        return list(self.vector.render())

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self.vector, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(
            f"the sub-envs share one vector env; set {attr_name!r} by making a new one"
        )

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        raise AttributeError(
            f"the sub-envs are not separate objects; {method_name!r} cannot be called on each"
        )

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [False] * len(self._get_indices(indices))
