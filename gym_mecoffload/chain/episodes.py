"""The chain family on the episodes protocol (:mod:`gym_mecoffload.core.episodes`).

:class:`ChainSource` is one env's view: sequential (``MecOffload-v0``, one subtask per
step) or one-shot (``MecOffloadOneShot-v0``). It draws tasks ahead in blocks
(:class:`~gym_mecoffload.chain.blocks.TaskBlock`, their optimum computed once for the
whole block), so resets are cheap whether an env is reseeded every episode or never.
Every episode lasts n steps (one step for the one-shot view), so a batch of k
episodes takes k consecutive tasks of a block and steps them in lockstep.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from gym_mecoffload.chain.blocks import TaskBlock, final_info_one
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.chain.observations import SequentialLayout, n_features
from gym_mecoffload.chain.rendering import render_ansi, render_rgb
from gym_mecoffload.chain.settings import EnvSettings
from gym_mecoffload.core.checks import holds_integers_below
from gym_mecoffload.core.episodes import OBS_HIGH, Episodes, EpisodeSource
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.topology import DEVICE, DEVICE_EDGE_CLOUD, N_PLACES

# A single env draws blocks of 1, 2, 4, ... tasks up to this many after a seeded reset; a
# vector env of N draws 1, 2, 4, ... episodes' worth, up to about VECTOR_BLOCK tasks.
SINGLE_BLOCK = 256
VECTOR_BLOCK = 4096


class ChainSource(EpisodeSource):
    """One chain env's spaces, action checks and stream of tasks.

    Args:
        settings: the env's validated settings.
        sequential: one subtask per step (``MecOffload-v0``), else the whole decision in
            one step (``MecOffloadOneShot-v0``).
        vector: for a vector env (larger blocks; its reset options may hold one task
            for every sub-env or one each).
    """

    def __init__(self, settings: EnvSettings, *, sequential: bool, vector: bool) -> None:
        self.settings = settings
        self.sequential = sequential
        self.vector = vector
        n = settings.n_subtasks
        if sequential:
            self.layout: SequentialLayout | None = SequentialLayout(n)
            size, action = self.layout.size, spaces.Discrete(N_PLACES)
        else:
            self.layout = None
            size, action = n_features(n), spaces.MultiDiscrete([N_PLACES] * n)
        self.observation_space = spaces.Box(0.0, OBS_HIGH, shape=(size,), dtype=np.float32)
        self.action_space = action
        if sequential:  # checked on every step: the topology's place check, one call deep
            self.check_action = DEVICE_EDGE_CLOUD.check_action  # type: ignore[method-assign]
        self._block_limit = VECTOR_BLOCK if vector else SINGLE_BLOCK
        self._sampled: TaskBlock | None = None  # tasks drawn ahead from the env's generator
        self._sampled_used = 0
        self._single: SequentialEpisodes | None = None  # a single env's, restarted each reset

    def check_action(self, action: Any) -> Any:
        """A place (sequential; bound to the topology's check in ``__init__``) or a
        decision of n places (one-shot), or a ValueError saying what is allowed."""
        if self.sequential:
            return DEVICE_EDGE_CLOUD.check_action(action)
        n = self.settings.n_subtasks
        decision = np.asarray(action)
        if decision.shape != (n,) or not holds_integers_below(decision, N_PLACES):
            raise ValueError(
                f"action must be {n} integer places in {{0, 1, 2}} (device, edge, cloud); "
                f"got {action!r}"
            )
        return decision

    def check_actions(self, actions: Any, size: int) -> np.ndarray:
        shape = (size,) if self.sequential else (size, self.settings.n_subtasks)
        return DEVICE_EDGE_CLOUD.check_actions(actions, shape)

    def start(
        self, size: int, rng: np.random.Generator, options: dict[str, Any], reseeded: bool
    ) -> Episodes:
        """The next ``size`` episodes: on ``options["state"]`` (and ``options["slots"]``)
        if given, else on the next tasks of the stream."""
        if reseeded:
            self._sampled = None  # a new seed starts a new stream of tasks
        if options and (set(options) - {"state", "slots"} or "state" not in options):
            why = " (every sub-env resets together, since every episode lasts n steps)"
            raise ValueError(
                "reset options may hold only 'state' and, with it, 'slots'; got "
                f"{sorted(options, key=str)}{why if self.vector else ''}"
            )
        if "state" in options:
            block, start = TaskBlock.given(options, self.settings, rng, size), 0
        elif self._sampled is not None and self._sampled_used + size <= len(self._sampled.tasks):
            block, start = self._sampled, self._sampled_used  # the next tasks drawn ahead
            self._sampled_used += size
        else:
            block, start = self._draw(size, rng)
        if not self.sequential:
            return OneShotEpisodes(self, block, start, size)
        if size > 1:
            return SequentialEpisodes(self, block, start, size)
        # A single env resets every few steps: restart one batch of one, as cheap as can be.
        if self._single is None:
            self._single = SequentialEpisodes(self, block, start, 1)
        else:
            self._single.restart(block, start)
        return self._single

    def _draw(self, size: int, rng: np.random.Generator) -> tuple[TaskBlock, int]:
        """The first ``size`` tasks of a new block, drawn when the last one is used up:
        1, 2, 4, ... episodes' worth, up to the block limit."""
        sampled = self._sampled
        episodes = 1 if sampled is None else 2 * len(sampled.tasks) // size
        episodes = min(episodes, max(1, self._block_limit // size))
        tasks = self.settings.sample(episodes * size, rng)
        self._sampled, self._sampled_used = TaskBlock.draw(tasks, self.settings, rng), size
        return self._sampled, 0


class _ChainEpisodes(Episodes):
    """What both views share: k episodes on tasks ``start .. start + k`` of a block."""

    # Slots: a single env makes one of these per reset, so attribute writes count.
    __slots__ = ("source", "block", "size", "start", "settings", "n", "placed", "done")
    __slots__ += ("decision", "relative")

    def __init__(self, source: ChainSource, block: TaskBlock, start: int, size: int) -> None:
        settings = source.settings
        self.source, self.block, self.size, self.start = source, block, size, start
        self.settings, self.n = settings, settings.n_subtasks
        self.placed = 0  # subtasks placed so far
        self.done = False
        self.decision = np.zeros((size, self.n), dtype=np.int64)
        self.relative = settings.reward_mode == "relative"

    @property
    def best_cost(self) -> np.ndarray:
        """The episodes' optimal costs, (k,)."""
        return self.block.best_cost[self.start : self.start + self.size]

    @property
    def index(self) -> np.ndarray:
        """The episodes' tasks in the block, (k,)."""
        return np.arange(self.start, self.start + self.size)

    @property
    def tasks(self) -> TaskBatch:
        """The episodes' requirements, one task each."""
        return self.block.tasks[self.start : self.start + self.size]

    @property
    def slots(self) -> Slots:
        """The episodes' realised channel, one task each (the tasks' own bandwidths on the
        paper's static channel)."""
        return self.block.realised[self.index]

    def replay_options(self, i: int) -> dict[str, Any]:
        """Task i and, on a fluctuating or unreliable channel, its realised slots."""
        options: dict[str, Any] = {"state": self.block.tasks[self.start + i]}
        if self.block.slots is not None:
            options["slots"] = self.block.slots[self.start + i]
        return options

    def _rewards(self, costs: np.ndarray) -> np.ndarray:
        return -(costs / self.best_cost) if self.relative else -costs

    def render(self, i: int, mode: str, title: str) -> str | np.ndarray:
        """The episode so far beside the optimum (:mod:`gym_mecoffload.chain.rendering`)."""
        index = self.start + i
        task, places = self.block.tasks[index], self.decision[i, : self.placed]
        optimum = self.block.best[index]
        slots = None if self.block.slots is None else self.block.slots[index]
        if mode == "ansi":
            title = f"{title}, {self.settings.objective.name} objective"
            return render_ansi(task, places, optimum, title, slots)
        return render_rgb(task, places, optimum, slots)


class SequentialEpisodes(_ChainEpisodes):
    """``MecOffload-v0``'s episodes: one subtask of every task placed per step."""

    __slots__ = ("layout", "fixed", "rows", "totals", "previous", "observation")
    # A batch of one (the single env) keeps its state in Python scalars and lists.
    __slots__ += ("_links", "_latency_links", "_energy_links", "_sums", "_row", "_before")
    __slots__ += ("_slot_row", "_decision_row", "_scale")

    def __init__(self, source: ChainSource, block: TaskBlock, start: int, size: int) -> None:
        super().__init__(source, block, start, size)
        layout = source.layout
        self.layout = layout
        self.fixed = block.slots is None  # the paper's channel: no slot to show
        if size == 1:
            self._decision_row = self.decision[0]
            self.restart(block, start)
        else:
            self.rows = np.arange(start, start + size)  # the tasks in the block
            self.totals = np.zeros((3, size))  # objective, latency, energy so far
            self.previous = np.full(size, DEVICE, dtype=np.intp)
            self.observation = layout.build(block.features[start : start + size], 0, DEVICE)

    def restart(self, block: TaskBlock, start: int) -> None:
        """A batch of one starts over on task ``start`` of ``block`` (its arrays reused)."""
        self.block, self.start, self.placed, self.done = block, start, 0, False
        self.fixed = block.slots is None  # the paper's channel: no slot to show
        # One episode's links [t][prev][p] (objective, latency, energy) as Python lists:
        # per-step lookups on them are far cheaper than on numpy scalars.
        self._links, self._latency_links, self._energy_links = block.measures[..., start].tolist()
        self._sums = [0.0, 0.0, 0.0]  # objective, latency and energy so far
        self._row = self.layout.first(block.features[start])
        self._before = DEVICE  # the previous subtask's place
        # Under a fluctuating channel each step shows the next slot's bandwidths.
        self._slot_row = None if self.fixed else block.slot_features[start]
        # Relative rewards are over the optimal cost.
        self._scale = float(block.best_cost[start]) if self.relative else None

    def observations(self) -> np.ndarray:
        return self._row[None].copy() if self.size == 1 else self.observation.copy()

    def observation_one(self) -> np.ndarray:
        return self._row.copy()

    def step_one(self, action: int) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        if self.size != 1:
            return super().step_one(action)
        t, previous = self.placed, self._before
        step_cost = self._links[t][previous][action]
        sums = self._sums
        sums[0] += step_cost
        sums[1] += self._latency_links[t][previous][action]
        sums[2] += self._energy_links[t][previous][action]
        if self._slot_row is None:  # the paper's channel: the bandwidths stay
            self.layout.advance(self._row, t, previous, action)
        else:
            self.layout.advance(self._row, t, previous, action, self._slot_row[t + 1])
        self._decision_row[t] = action
        self._before = action
        self.placed = t + 1
        info = {}
        if t + 1 == self.n:
            self.done = True
            info = final_info_one(self.block, self.start, self._decision_row, sums)
        reward = -step_cost if self._scale is None else -(step_cost / self._scale)
        return self._row.copy(), reward, self.done, info

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        if self.size == 1:  # the single env's state lives in Python scalars
            _, reward, terminated, _ = self.step_one(int(actions[0]))
            final = self.final_infos(self._sums_array()) if terminated else None
            return np.array([reward]), final
        t = self.placed
        links = self.block.step_links(t, self.rows, self.previous, actions)  # (3, k)
        self.totals += links  # subtask after subtask, as the single env adds them
        slots = None
        if not self.fixed:  # the next slot's bandwidths
            slots = self.block.slot_features[self.rows, min(t + 1, self.n)]
        self.layout.advance(self.observation, t, self.previous, actions, slots)
        self.decision[:, t] = actions
        self.previous = actions
        self.placed += 1
        self.done = self.placed == self.n
        final = self.final_infos(self.totals) if self.done else None
        return self._rewards(links[0]), final

    def _sums_array(self) -> np.ndarray:
        return np.array(self._sums)[:, None]

    def final_infos(self, totals: np.ndarray) -> dict[str, np.ndarray]:
        return self.block.final_infos(self.index, self.decision, totals)


class OneShotEpisodes(_ChainEpisodes):
    """``MecOffloadOneShot-v0``'s episodes: the whole decision in one step."""

    __slots__ = ()

    def observations(self) -> np.ndarray:
        return self.block.features[self.start : self.start + self.size].copy()

    def step_one(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        self.decision[0] = action
        self.placed, self.done = self.n, True
        # left_fold's order (the sequential env's), in plain Python: several times faster
        # for one task than the block's numpy path.
        totals, previous = [0.0, 0.0, 0.0], DEVICE
        measures = self.block.measures[..., self.start].tolist()
        for t, place in enumerate(self.decision[0].tolist()):
            for m, links in enumerate(measures):
                totals[m] += links[t][previous][place]
            previous = place
        info = final_info_one(self.block, self.start, self.decision[0], totals)
        observation = self.block.features[self.start].copy()
        cost = info["cost"]
        reward = -(cost / float(self.best_cost[0])) if self.relative else -cost
        return observation, reward, True, info

    def observation_one(self) -> np.ndarray:
        return self.block.features[self.start].copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        self.decision[:] = actions
        self.placed, self.done = self.n, True
        final = self.block.final_infos(self.index, self.decision)
        return self._rewards(final["cost"]), final
