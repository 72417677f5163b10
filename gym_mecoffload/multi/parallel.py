"""The PettingZoo view: users as agents of a ``ParallelEnv`` over the batched core (one system).

PettingZoo is an optional extra (``pip install gym-mecoffload[multiagent]``): this module
imports without it (the class then derives from ``object`` and is usable, but
PettingZoo's wrappers and tests need PettingZoo). Where the installed PettingZoo has a
registry (1.27 and later), importing this module registers ``gym_mecoffload/multi_v0``
there, so ``pettingzoo.env_registry.make("parallel", "gym_mecoffload/multi_v0")`` works.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

from gym_mecoffload.core.episodes import OBS_HIGH, RENDER_MODES, check_options, check_render_mode
from gym_mecoffload.core.objective import KAPPA, LATENCY_WEIGHT, RX_POWER, TX_POWER
from gym_mecoffload.multi.envs import multi_settings
from gym_mecoffload.multi.episodes import MultiBatch, MultiSource, episode_figures
from gym_mecoffload.multi.model import MultiScenario
from gym_mecoffload.multi.observations import (
    action_masks,
    global_size,
    global_state,
    local_observations,
    local_size,
)

try:  # the optional extra
    from pettingzoo import ParallelEnv as _Base
except ImportError:  # pragma: no cover - exercised in an env without PettingZoo
    _Base = object

PETTINGZOO_ID = "gym_mecoffload/multi_v0"


class MecOffloadMultiParallelEnv(_Base):  # type: ignore[misc, valid-type]
    """
    ## Description

    The multi-user model of ``MecOffloadMulti-v0`` (SPEC-MULTI) with each user an agent
    (``user_0`` .. ``user_{U-1}``): at every slot each agent places its own new task.

    ## Action Space

    Per agent `Discrete(1 + 2S)`: 0 its device, 1 + s edge server s, 1 + S + s the
    cloud through s. An agent without a task has nothing to place: its action is ignored
    and ``infos[agent]["action_mask"]`` (int8, 1 + 2S) shows place 0 only.

    ## Observation Space

    Per agent `Box(0, float32 max, (10 + 6S,), float32)`: its new task, its own CPU and
    radio backlogs, its link rates to every server, every server's backlog, booked tasks
    and sub-channel wait, and the platform (:mod:`gym_mecoffload.multi.observations`).
    ``state()`` is the global state of the dispatcher's view, for centralised critics.

    ## Rewards

    Per agent, minus the cost of its own task this slot (0 without one) under the
    objective (class weight times latency by default); for ``objective="aoi"``, minus its
    weighted age integrated over the slot. Their sum is the dispatcher's reward.

    ## Starting State

    As ``MecOffloadMulti-v0``: empty queues; everything random drawn at reset from the
    env's generator (``reset(seed=...)`` fixes the episode whatever the agents do), or
    given as ``reset(options={"episodes": e})``.

    ## Episode End

    Every agent is truncated after ``horizon`` slots; ``infos[agent]["episode"]`` then holds
    the episode's figures (as the dispatcher's final info).

    ## Arguments

    Those of ``MecOffloadMulti-v0``: ``scenario``, ``objective``, ``reward_mode``,
    ``render_mode``, the energy model's constants and any scenario field.

    ## Version History

    * v0: initial version.
    """

    metadata = {
        "name": "gym_mecoffload_multi_v0",
        "render_modes": list(RENDER_MODES),
        "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: str | MultiScenario = "multi",
        objective: str = "latency",
        reward_mode: str = "absolute",
        render_mode: str | None = None,
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
        self.source = MultiSource(self.settings)
        self.render_mode = check_render_mode(render_mode)
        sc = self.settings.scenario
        self.possible_agents = [f"user_{u}" for u in range(sc.users)]
        self.agents: list[str] = []
        self._observation_space = spaces.Box(0.0, OBS_HIGH, (local_size(sc.servers),), np.float32)
        self._action_space = spaces.Discrete(sc.n_places)
        self.observation_spaces = {a: self._observation_space for a in self.possible_agents}
        self.action_spaces = {a: self._action_space for a in self.possible_agents}
        self.state_space = spaces.Box(
            0.0, OBS_HIGH, (global_size(sc.users, sc.servers),), np.float32
        )
        self._np_random, self._np_random_seed = seeding.np_random()
        self._batch: MultiBatch | None = None

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    @property
    def core(self):
        """The batched core of the current episode (one system)."""
        if self._batch is None:
            raise RuntimeError("no episode yet: call reset() first")
        return self._batch.core

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        # PettingZoo's API test resets with options it makes up: keys other than
        # "episodes" are ignored here (the Gymnasium views refuse them).
        given = check_options(options)
        known = {key: value for key, value in given.items() if key == "episodes"}
        self._batch = self.source.start(1, self._np_random, known, seed is not None)
        self.agents = list(self.possible_agents)
        return self._observations(), self._infos()

    def _observations(self) -> dict[str, np.ndarray]:
        local = local_observations(self._batch.core)[0]
        return {agent: local[u] for u, agent in enumerate(self.possible_agents)}

    def _infos(self) -> dict[str, dict[str, Any]]:
        mask = action_masks(self._batch.core)[0]
        return {agent: {"action_mask": mask[u]} for u, agent in enumerate(self.possible_agents)}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if self._batch is None or not self.agents:
            raise RuntimeError("the episode is over (or never began): call reset() before step()")
        if not isinstance(actions, dict):
            raise TypeError(
                f"actions must be a dict of agent -> place; got {type(actions).__name__}"
            )
        unknown = sorted(set(actions) - set(self.agents))
        if unknown:
            raise ValueError(
                f"actions for agents that are not acting: {unknown}; agents are {self.agents}"
            )
        core = self._batch.core
        has = core.current()["has_task"][0]
        places = np.zeros(len(self.possible_agents), dtype=np.int64)
        for u, agent in enumerate(self.possible_agents):
            if agent not in actions:
                if has[u]:
                    raise ValueError(f"{agent} has a task to place but no action was given")
                continue
            places[u] = self._check(agent, actions[agent])
        result = core.step(places[None])
        per_user = result.relative if self.settings.reward_mode == "relative" else result.cost
        rewards = {agent: float(-per_user[0, u]) for u, agent in enumerate(self.possible_agents)}
        observations = self._observations()
        infos = self._infos()
        ended = bool(core.done[0])
        terminations = {agent: False for agent in self.agents}
        truncations = {agent: ended for agent in self.agents}
        if ended:
            figures = {
                k: (v[0].copy() if v.ndim > 1 else v[0].item())
                for k, v in episode_figures(core).items()
            }
            for agent in self.agents:
                infos[agent]["episode"] = figures
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _check(self, agent: str, action: Any) -> int:
        n = self.settings.scenario.n_places
        if (
            isinstance(action, (bool, np.bool_))
            or not isinstance(action, (int, np.integer))
            or not 0 <= action < n
        ):
            array = np.asarray(action)
            if not (array.shape == () and array.dtype.kind in "iu" and 0 <= array < n):
                raise ValueError(
                    f"{agent}'s action must be an integer place in [0, {n - 1}]; got {action!r}"
                )
        return int(action)

    def state(self) -> np.ndarray:
        """The global state (:func:`~gym_mecoffload.multi.observations.global_state`)."""
        if self._batch is None:
            raise RuntimeError("no state yet: call reset() first")
        return global_state(self._batch.core)[0]

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            return None
        if self._batch is None:
            raise RuntimeError("nothing to render yet: call reset() first")
        return self._batch.render(0, self.render_mode, type(self).__name__)

    def close(self) -> None:
        """Nothing to release."""


def parallel_env(**kwargs: Any) -> MecOffloadMultiParallelEnv:
    """PettingZoo's conventional constructor name."""
    return MecOffloadMultiParallelEnv(**kwargs)


def register_pettingzoo() -> bool:
    """Register :data:`PETTINGZOO_ID` with PettingZoo's registry where it has one; whether
    it did (PettingZoo before 1.27 has none)."""
    try:
        from pettingzoo.env_registry import registration
    except ImportError:
        return False
    if PETTINGZOO_ID not in registration._get_registry("parallel"):
        registration.register("parallel", PETTINGZOO_ID, entry_point=f"{__name__}:parallel_env")
    return True


register_pettingzoo()
