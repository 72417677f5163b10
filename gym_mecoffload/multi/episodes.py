"""The multi-user family's episodes on the core's protocol (:mod:`gym_mecoffload.core.episodes`):
one step per slot, the dispatcher placing every user's task at once.

Rewards are minus the slot's cost (the sum over users, SPEC-MULTI section 4); episodes end
truncated after T slots (queues still hold work). Every step's and reset's info holds the
action mask and the last slot's figures; the final info holds the episode's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from gym_mecoffload.core.checks import holds_integers_below
from gym_mecoffload.core.episodes import OBS_HIGH, Episodes, EpisodeSource, check_reward_mode
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import MULTI_OBJECTIVES, MultiCore, SlotResult, utilisation
from gym_mecoffload.multi.model import MultiEpisodes, MultiScenario, draw_episodes
from gym_mecoffload.multi.observations import action_masks, global_size, global_state


def nearest_rank(values: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile (0 < q <= 1) of each row's finite values by nearest rank (0 for a row
    with none), (k,)."""
    finite = np.isfinite(values)
    ordered = np.sort(np.where(finite, values, np.inf), axis=-1)
    n = finite.sum(axis=-1)
    rank = np.maximum(np.ceil(q * n).astype(np.int64) - 1, 0)
    picked = np.take_along_axis(ordered, rank[:, None], axis=-1)[:, 0]
    return np.where(n > 0, picked, 0.0)


def slot_figures(result: SlotResult, aoi_weights: np.ndarray) -> dict[str, np.ndarray]:
    """A slot's figures per system (k,): tasks, mean and 95th-percentile latency (s, over
    tasks not dropped; 0 when none), misses, drops, device energy (J), and the weighted
    AoI integrated over the slot (s^2; NaN unless the objective is ``aoi``, the only one
    that follows it slot by slot: the episode's is in the final info)."""
    latency = result.latency
    done = np.isfinite(latency)
    count = done.sum(axis=-1)
    total = np.where(done, latency, 0.0).sum(axis=-1)
    return {
        "tasks": result.has_task.sum(axis=-1),
        "latency_mean": np.where(count > 0, total / np.maximum(count, 1), 0.0),
        "latency_p95": nearest_rank(latency, 0.95),
        "misses": result.missed.sum(axis=-1),
        "drops": result.dropped.sum(axis=-1),
        "energy": result.energy.sum(axis=-1),
        "aoi": (result.aoi * aoi_weights).sum(axis=-1),
    }


def episode_figures(core: MultiCore) -> dict[str, np.ndarray]:
    """The episodes' figures per system (k, ...): as :func:`slot_figures` over every task,
    plus the weighted AoI (s^2), the cost and each resource's utilisation
    (:func:`~gym_mecoffload.multi.core.utilisation`)."""
    B = core.size
    latency = core.record_latency.reshape(B, -1)
    done = np.isfinite(latency)
    count = done.sum(axis=-1)
    return {
        "tasks": (core.record_place >= 0).reshape(B, -1).sum(axis=-1),
        "latency_mean": np.where(
            count > 0, np.where(done, latency, 0.0).sum(axis=-1) / np.maximum(count, 1), 0.0
        ),
        "latency_p95": nearest_rank(latency, 0.95),
        "misses": core.record_missed.reshape(B, -1).sum(axis=-1),
        "drops": core.record_dropped.reshape(B, -1).sum(axis=-1),
        "energy": core.record_energy.reshape(B, -1).sum(axis=-1),
        "aoi": (core.episode_aoi() * core.scenario.aoi_weights).sum(axis=-1),
        "cost": core.record_cost.reshape(B, -1).sum(axis=-1),
        **{f"{name}_utilisation": value for name, value in utilisation(core).items()},
    }


@dataclass(frozen=True)
class MultiSettings:
    """An env's validated view: the scenario, the objective and the reward mode."""

    scenario: MultiScenario
    objective: str
    constants: Objective
    reward_mode: str

    def __post_init__(self) -> None:
        if not isinstance(self.objective, str) or self.objective not in MULTI_OBJECTIVES:
            raise ValueError(f"objective must be one of {MULTI_OBJECTIVES}; got {self.objective!r}")
        check_reward_mode(self.reward_mode)
        if self.reward_mode == "relative" and self.objective == "deadline":
            raise ValueError(
                "reward_mode='relative' divides each task's cost by its best cost alone, which "
                "is 0 for objective='deadline' whenever a place meets the deadline; use "
                "reward_mode='absolute'"
            )

    def core(self, size: int) -> MultiCore:
        return MultiCore(self.scenario, self.objective, self.constants, size)


def check_relative(core: MultiCore, index: np.ndarray) -> None:
    """``reward_mode="relative"`` divides by each task's best cost alone: refuse an episode
    with a task that costs nothing alone (no cycles and no data)."""
    arrive = core.episodes.arrive[index]
    bad = arrive & ~(core.normaliser[index] > 0)
    if bad.any():
        b, t, u = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            "reward_mode='relative' divides every task's cost by its best cost alone, which "
            f"is {core.normaliser[index][b, t, u]!r} for user {u}'s task in slot {t}; use "
            "reward_mode='absolute' for scenarios whose tasks can cost nothing"
        )


class MultiBatch(Episodes):
    """k systems' episodes on one core, stepped a slot at a time."""

    truncates = True

    def __init__(self, settings: MultiSettings, episodes: MultiEpisodes) -> None:
        self.settings = settings
        self.core = settings.core(episodes.size)
        self.core.reset(episodes)
        if settings.reward_mode == "relative":
            check_relative(self.core, np.arange(episodes.size))
        self.size = episodes.size
        self.last: dict[str, np.ndarray] | None = None

    @property
    def done(self) -> bool:
        return bool(self.core.done.all())

    def observations(self) -> np.ndarray:
        return global_state(self.core)

    def infos(self) -> dict[str, np.ndarray]:
        figures = self.last
        if figures is None:
            zero = np.zeros(self.size)
            figures = {
                key: zero.copy()
                for key in ("tasks", "latency_mean", "latency_p95", "misses", "drops", "energy")
            }
            figures["aoi"] = zero.copy()
        if self.settings.objective != "aoi":  # followed slot by slot only for it
            figures = {k: v for k, v in figures.items() if k != "aoi"}
        return {
            "action_mask": action_masks(self.core),
            **{f"slot_{k}": v for k, v in figures.items()},
            **{f"{k}_utilisation": v for k, v in utilisation(self.core).items()},
        }

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        result = self.core.step(actions)
        self.last = slot_figures(result, self.settings.scenario.aoi_weights)
        per_user = result.relative if self.settings.reward_mode == "relative" else result.cost
        rewards = -per_user.sum(axis=-1)
        if not self.done:
            return rewards, None
        return rewards, episode_figures(self.core)

    def replay_options(self, i: int) -> dict[str, Any]:
        return {"episodes": self.core.episodes.select(slice(i, i + 1))}

    def render(self, i: int, mode: str, title: str) -> str | np.ndarray:
        from gym_mecoffload.multi.rendering import render_ansi, render_rgb

        if mode == "ansi":
            return render_ansi(self.core, i, title)
        return render_rgb(self.core, i, title)


class MultiSource(EpisodeSource):
    """The dispatcher's view: ``MultiDiscrete([1 + 2S] * U)`` actions, the global state."""

    def __init__(self, settings: MultiSettings) -> None:
        self.settings = settings
        sc = settings.scenario
        self.observation_space = spaces.Box(
            0.0, OBS_HIGH, (global_size(sc.users, sc.servers),), np.float32
        )
        self.action_space = spaces.MultiDiscrete([sc.n_places] * sc.users)

    def check_action(self, action: Any) -> np.ndarray:
        return self.check_actions(np.asarray(action)[None], 1)[0]

    def check_actions(self, actions: Any, size: int) -> np.ndarray:
        sc = self.settings.scenario
        array = np.asarray(actions)
        shape = (size, sc.users)
        if array.shape != shape or not holds_integers_below(array, sc.n_places):
            raise ValueError(
                f"actions must be integers in [0, {sc.n_places - 1}] (a place per user: 0 "
                f"device, 1..{sc.servers} edge, {sc.servers + 1}..{2 * sc.servers} cloud) of "
                f"shape {shape[1:] if size == 1 else shape}; got {_describe(array)}"
            )
        return array.astype(np.int64)

    def start(
        self, size: int, rng: np.random.Generator, options: dict[str, Any], reseeded: bool
    ) -> MultiBatch:
        unknown = sorted(set(options) - {"episodes"})
        if unknown:
            raise ValueError(
                f"unknown reset options {unknown}; the multi-user envs take 'episodes'"
            )
        if "episodes" in options:
            episodes = options["episodes"]
            if not isinstance(episodes, MultiEpisodes) or episodes.size != size:
                raise ValueError(
                    f"options['episodes'] must be MultiEpisodes of {size} (from a vector env's "
                    f"replay_options or draw_episodes); got {type(episodes).__name__}"
                )
            check_episodes(self.settings.scenario, episodes)
        else:
            episodes = draw_episodes(self.settings.scenario, size, rng)
        return MultiBatch(self.settings, episodes)


def check_episodes(scenario: MultiScenario, episodes: MultiEpisodes) -> None:
    """A ValueError unless ``episodes`` have the scenario's shapes."""
    B, T, U, S = episodes.size, scenario.horizon, scenario.users, scenario.servers
    expected = {
        "arrive": (B, T, U),
        "cycles": (B, T, U),
        "order": (B, T, U),
        "bandwidth": (B, scenario.tail_slots, U, S),
        "attempts": (B, T, U, 4),
        "device_hz": (B, U),
        "edge_hz": (B, S),
    }
    for name, shape in expected.items():
        got = getattr(episodes, name).shape
        if got != shape:
            raise ValueError(
                f"episodes.{name} must have shape {shape} for this scenario; got {got}"
            )


def _describe(array: np.ndarray) -> str:
    text = np.array2string(array, threshold=20)
    return f"{text} (dtype {array.dtype}, shape {array.shape})"
