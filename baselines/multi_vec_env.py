"""Stable-Baselines3's ``VecEnv`` over the users of the multi-user family: one shared policy.

``n_systems`` systems of U users each make ``n_systems * U`` sub-envs, sub-env ``b * U + u``
being user u of system b; each sees its user's local observation
(:func:`gym_mecoffload.multi.observations.local_observations`) and chooses its task's place,
``Discrete(1 + 2S)``. SB3's DQN and PPO, and imitation's BC, then train one per-user policy
with shared parameters. A user's reward is minus its own task's cost this slot (0 without a
task; for ``objective="aoi"``, minus its weighted age over the slot). A sub-env without a
task still acts; its action is ignored (``info["action_mask"]`` says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from gym_mecoffload.core.checks import check_count, holds_integers_below
from gym_mecoffload.core.episodes import OBS_HIGH
from gym_mecoffload.core.objective import KAPPA, LATENCY_WEIGHT, RX_POWER, TX_POWER
from gym_mecoffload.multi.envs import multi_settings
from gym_mecoffload.multi.episodes import MultiBatch, MultiSource
from gym_mecoffload.multi.observations import action_masks, local_observations, local_size


class MultiUserVecEnv(VecEnv):
    """An SB3 ``VecEnv`` of every user of ``n_systems`` systems (module doc).

    Args:
        n_systems: systems stepped together on one batched core.
        seed: seeds the generator the episodes are drawn from (also ``seed()``).
        scenario, objective, reward_mode, and any scenario field: as ``MecOffloadMulti-v0``.
    """

    def __init__(
        self,
        n_systems: int,
        seed: int | None = None,
        scenario: Any = "multi",
        objective: str = "latency",
        reward_mode: str = "absolute",
        latency_weight: float = LATENCY_WEIGHT,
        kappa: float = KAPPA,
        tx_power: float = TX_POWER,
        rx_power: float = RX_POWER,
        **scenario_options: Any,
    ) -> None:
        self.settings = multi_settings(
            scenario,
            objective,
            reward_mode,
            latency_weight,
            kappa,
            tx_power,
            rx_power,
            scenario_options,
        )
        self.n_systems = check_count("n_systems", n_systems, 1)
        sc = self.settings.scenario
        self.users = sc.users
        self.source = MultiSource(self.settings)
        observation_space = spaces.Box(0.0, OBS_HIGH, (local_size(sc.servers),), np.float32)
        self.render_mode = None  # SB3 asks; frames come from the env views
        super().__init__(self.n_systems * sc.users, observation_space, spaces.Discrete(sc.n_places))
        self.rng = np.random.default_rng(seed)
        self._batch: MultiBatch | None = None
        self._actions: np.ndarray | None = None

    def seed(self, seed: int | None = None) -> Sequence[None | int]:
        self.rng = np.random.default_rng(seed)
        return [seed] * self.num_envs

    def _observations(self) -> np.ndarray:
        return local_observations(self._batch.core).reshape(self.num_envs, -1)

    def reset(self) -> VecEnvObs:
        self._batch = self.source.start(self.n_systems, self.rng, {}, False)
        return self._observations()

    def step_async(self, actions: np.ndarray) -> None:
        array = np.asarray(actions).reshape(-1)
        n = self.settings.scenario.n_places
        if array.shape != (self.num_envs,) or not holds_integers_below(array, n):
            raise ValueError(
                f"actions must be {self.num_envs} integer places in [0, {n - 1}]; got {actions!r}"
            )
        self._actions = array.reshape(self.n_systems, self.users)

    def step_wait(self) -> VecEnvStepReturn:
        if self._batch is None or self._actions is None:
            raise RuntimeError("call reset() and step_async() first")
        core = self._batch.core
        result = core.step(self._actions)
        per_user = result.relative if self.settings.reward_mode == "relative" else result.cost
        rewards = (-per_user).reshape(-1).astype(np.float32)
        observations = self._observations()
        masks = action_masks(core).reshape(self.num_envs, -1)
        infos: list[dict[str, Any]] = [{"action_mask": m} for m in masks]
        ended = bool(core.done.all())
        dones = np.full(self.num_envs, ended)
        if ended:
            for i, info in enumerate(infos):
                info["terminal_observation"] = observations[i]
                info["TimeLimit.truncated"] = True  # the horizon, not a natural end
            self.reset()
            observations = self._observations()
        return observations, rewards, dones, infos

    def close(self) -> None:
        """Nothing to release."""

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self, attr_name, value)

    def env_method(
        self, method_name: str, *args: Any, indices: VecEnvIndices = None, **kwargs: Any
    ) -> list[Any]:
        return [getattr(self, method_name)(*args, **kwargs)] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))

    def action_masks(self) -> np.ndarray:
        """(num_envs, 1 + 2S) bool, for sb3-contrib's MaskablePPO."""
        return action_masks(self._batch.core).reshape(self.num_envs, -1).astype(bool)
