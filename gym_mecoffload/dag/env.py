"""``MecOffloadDag-v0``: place a DAG task's subtasks one per step, in HEFT's priority order.

The single env and the vector env share :class:`DagEpisodes`: a block of tasks,
their schedules (vectorised over the block) and their final infos.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from gym_mecoffload.core.checks import GIGA, check_count, holds_integers_below
from gym_mecoffload.core.envs import autoreset_metadata
from gym_mecoffload.core.episodes import (
    RENDER_FPS,
    RENDER_MODES,
    REWARD_MODES,
    RewardMode,
    check_render_mode,
)
from gym_mecoffload.core.objective import Objective, make_objective
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.core.topology import N_PLACES, PLACES
from gym_mecoffload.dag.data import DagDataset, label
from gym_mecoffload.dag.graphs import generate_dags, generator_settings
from gym_mecoffload.dag.model import DAG_FIELDS, DagBatch, Schedule, priority_order
from gym_mecoffload.dag.observations import DagLayout

OPTIMA = ("milp", "none")
_OBS_HIGH = np.finfo(np.float32).max
_SAFE_SECONDS = 1e30  # every time in an observation stays far inside float32


def pad_dags(dags: DagBatch, n_subtasks: int) -> DagBatch:
    """``dags`` with empty subtasks appended up to ``n_subtasks``: no work, no data, no edges.

    They change no makespan or energy wherever they are placed (their upward rank is 0,
    so they come last in the priority order), so one space serves smaller graphs.
    """
    extra = check_count("n_subtasks", n_subtasks, dags.n_subtasks) - dags.n_subtasks
    if extra == 0:
        return dags
    fields = {name: getattr(dags, name) for name in DAG_FIELDS}
    for name in ("cycles", "input_data", "output_data"):
        fields[name] = np.pad(fields[name], ((0, 0), (0, extra)))
    for name in ("edges", "edge_data"):
        fields[name] = np.pad(fields[name], ((0, 0), (0, extra), (0, extra)))
    return DagBatch(**fields)


@dataclass(frozen=True)
class DagSettings:
    """A DAG env's validated configuration (see ``MecOffloadDagEnv``'s docstring)."""

    n_subtasks: int
    generator: dict[str, Any]
    contention: bool
    objective: Objective
    task_pool: DagBatch | DagDataset | None
    optimum: str
    reward_mode: RewardMode = "absolute"

    @classmethod
    def validate(
        cls,
        *,
        n_subtasks: int,
        fat: float,
        density: float,
        regularity: float,
        jump: int,
        scenario: str | Scenario,
        contention: bool,
        objective: str | Objective,
        latency_weight: float,
        kappa: float,
        tx_power: float,
        rx_power: float,
        task_pool: DagBatch | DagDataset | None,
        optimum: str,
        reward_mode: RewardMode = "absolute",
    ) -> DagSettings:
        n_subtasks = check_count(
            "n_subtasks", n_subtasks, 1, 64, " (the observation grows as n**2)"
        )
        if not isinstance(contention, (bool, np.bool_)):
            raise TypeError(f"contention must be a bool; got {contention!r}")
        if optimum not in OPTIMA:
            raise ValueError(f"optimum must be one of {OPTIMA}; got {optimum!r}")
        generator = generator_settings(
            n_subtasks=n_subtasks,
            fat=fat,
            density=density,
            regularity=regularity,
            jump=jump,
            scenario=scenario,
        )
        objective = make_objective(objective, latency_weight, kappa, tx_power, rx_power)
        if task_pool is not None:
            dags = task_pool.dags if isinstance(task_pool, DagDataset) else task_pool
            if not isinstance(dags, DagBatch) or len(dags) == 0:
                raise ValueError(
                    f"task_pool must be a non-empty DagBatch or DagDataset; got {task_pool!r}"
                )
            if dags.n_subtasks > n_subtasks:
                raise ValueError(
                    f"task_pool's graphs have {dags.n_subtasks} subtasks; this env takes up to "
                    f"n_subtasks={n_subtasks}"
                )
            if isinstance(task_pool, DagDataset) and (
                task_pool.contention != bool(contention) or task_pool.objective != objective
            ):
                raise ValueError(
                    "task_pool's labels are for another model: its contention and objective "
                    f"are {task_pool.contention} and {task_pool.objective.name!r}, this env's "
                    f"{bool(contention)} and {objective.name!r}"
                )
        if reward_mode not in REWARD_MODES:
            raise ValueError(f"reward_mode must be one of {REWARD_MODES}; got {reward_mode!r}")
        if (
            reward_mode == "relative"
            and optimum != "milp"
            and not isinstance(task_pool, DagDataset)
        ):
            raise ValueError(
                'reward_mode="relative" divides rewards by the expert\'s cost: pass '
                'optimum="milp" (or a labelled DagDataset as task_pool)'
            )
        return cls(
            n_subtasks, generator, bool(contention), objective, task_pool, optimum, reward_mode
        )

    @classmethod
    def for_model(
        cls,
        n_subtasks: int,
        *,
        contention: bool = False,
        objective: str | Objective = "latency",
        task_pool: DagBatch | DagDataset | None = None,
    ) -> DagSettings:
        """Settings with the generator's defaults: for rollouts outside an env."""
        return cls.validate(
            n_subtasks=n_subtasks,
            fat=0.5,
            density=0.5,
            regularity=0.5,
            jump=1,
            scenario="paper",
            contention=contention,
            objective=objective,
            latency_weight=0.5,
            kappa=1e-27,
            tx_power=0.5,
            rx_power=0.1,
            task_pool=task_pool,
            optimum="none",
        )

    def draw(self, size: int, rng: np.random.Generator) -> tuple[DagBatch, DagDataset | None]:
        """``size`` tasks (padded to n_subtasks) and, when the optimum is asked for or the
        pool carries it, their expert labels."""
        pool = self.task_pool
        if pool is None:
            dags = generate_dags(size, rng=rng, **self.generator)
            labels = (
                label(dags, self.objective, contention=self.contention)
                if self.optimum == "milp"
                else None
            )
            return dags, labels
        index = rng.integers(len(pool), size=size)
        if isinstance(pool, DagDataset):
            padded = _padded(pool[index], self.n_subtasks)
            return padded.dags, padded
        dags = pad_dags(pool[index], self.n_subtasks)
        labels = (
            label(dags, self.objective, contention=self.contention)
            if self.optimum == "milp"
            else None
        )
        return dags, labels


def _padded(labels: DagDataset, n_subtasks: int) -> DagDataset:
    extra = n_subtasks - labels.dags.n_subtasks
    if extra == 0:
        return labels
    return DagDataset(
        pad_dags(labels.dags, n_subtasks),
        np.pad(labels.decisions, ((0, 0), (0, extra))),
        labels.costs,
        labels.lower_bound,
        labels.exact,
        labels.contention,
        labels.objective,
    )


class DagEpisodes:
    """N DAG episodes stepped together: each step places every task's next subtask in its
    priority order. Rewards are minus the increase of each task's cost so far."""

    def __init__(self, dags: DagBatch, labels: DagDataset | None, settings: DagSettings) -> None:
        self.dags, self.labels, self.settings = dags, labels, settings
        self.layout = DagLayout(settings.n_subtasks)
        self.order = priority_order(dags)
        self.schedule = Schedule(dags, contention=settings.contention, objective=settings.objective)
        self.step_index = 0
        self._check_times()
        self.observation = self.layout.static_part(dags)
        self.layout.fill(self.observation, self.schedule, self.order[:, 0])

    def _check_times(self) -> None:
        # An upper bound of every time an episode can reach: all work and all bytes in a row
        # at the slowest place and link (contention serialises, never slows further).
        dags = self.dags
        slowest = np.minimum(dags.device_hz, dags.edge_hz)
        per_byte = 1.0 / dags.edge_bandwidth + 1.0 / dags.cloud_bandwidth
        moved = (
            dags.edge_data.sum(axis=(1, 2))
            + dags.input_data.sum(axis=1)
            + dags.output_data.sum(axis=1)
        )
        bound = dags.cycles.sum(axis=1) / slowest + 2 * moved * per_byte
        if not (bound < _SAFE_SECONDS).all():
            i = int(np.argmax(~(bound < _SAFE_SECONDS)))
            raise ValueError(
                f"task {i} can take up to {bound[i]:.3g} s, beyond what a float32 observation "
                f"holds safely ({_SAFE_SECONDS:g} s): shrink its cycles or data, or raise its "
                "frequencies or bandwidths"
            )

    @property
    def current(self) -> np.ndarray:
        return self.order[:, self.step_index]

    @property
    def done(self) -> bool:
        return self.step_index == self.settings.n_subtasks

    def advance(self, places: np.ndarray) -> np.ndarray:
        """Place every task's current subtask; returns the step's cost increases (N,)."""
        before = self.schedule.cost
        self.schedule.add(self.current, places)
        self.step_index += 1
        current = None if self.done else self.current
        self.layout.fill(self.observation, self.schedule, current)
        return self.schedule.cost - before

    def rewards(self, increases: np.ndarray) -> np.ndarray:
        """A step's rewards from its cost increases: minus them, or with
        ``reward_mode="relative"`` minus them over the expert's cost, so that the return
        is minus the cost in units of the expert's (-1 where the policy matches it)."""
        if self.settings.reward_mode == "relative":
            return -(increases / self.labels.costs)
        return -increases

    def final_infos(self) -> dict[str, np.ndarray]:
        """Each episode's makespan (s), energy (J), cost, decision and, with an expert, its
        decision and cost (``milp_*``; with contention the best known) and the no-contention
        optimum (``lower_bound``; ``optimal_cost`` too without contention)."""
        schedule = self.schedule
        info = {
            "makespan": schedule.end.copy(),
            "energy": schedule.energy.copy(),
            "cost": schedule.cost.copy(),
            "decision": schedule.places.copy(),
        }
        if self.labels is not None:
            info["milp_decision"] = self.labels.decisions.astype(np.int64)
            info["milp_cost"] = self.labels.costs.copy()
            info["milp_exact"] = self.labels.exact.copy()
            info["lower_bound"] = self.labels.lower_bound.copy()
            if not self.settings.contention:
                info["optimal_cost"] = self.labels.costs.copy()
        return info


def rollout(
    dags: DagBatch,
    decide: Callable[[np.ndarray, DagEpisodes], np.ndarray],
    settings: DagSettings,
    *,
    record: bool = False,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Play a policy on every task of ``dags`` at once, as ``MecOffloadDag-v0`` would.

    ``decide(observations (N, size), episodes)`` returns the places (N,) of each task's
    current subtask (``episodes.current``). Returns the decisions (N, n) and, if
    ``record``, the observations (N * n, size) and the chosen places (N * n,), step by
    step: demonstrations when ``decide`` is an expert.
    """
    episodes = DagEpisodes(dags, None, settings)
    seen, chosen = [], []
    while not episodes.done:
        places = np.asarray(decide(episodes.observation, episodes), dtype=np.int64)
        if record:
            seen.append(episodes.observation.copy())
            chosen.append(places)
        episodes.advance(places)
    if not record:
        return episodes.schedule.places.copy(), None, None
    return episodes.schedule.places.copy(), np.concatenate(seen), np.concatenate(chosen)


def _render(episodes: DagEpisodes, i: int, mode: str, title: str) -> str | np.ndarray:
    """One task's schedule so far: a text table in priority order, or a picture of its
    executions on one lane per place."""
    schedule, dags = episodes.schedule, episodes.dags
    order = episodes.order[i]
    placed = [int(v) for v in order[: episodes.step_index]]
    if mode == "ansi":
        lines = [
            f"{title}: {len(placed)} of {dags.n_subtasks} subtasks placed, "
            f"partial makespan {schedule.end[i]:.3f} s, energy {schedule.energy[i]:.3f} J",
            f"{'subtask':>7} {'Gcycles':>8} {'parents':>12} | {'place':>6} {'finish s':>9}",
        ]
        for v in order:
            parents = ",".join(str(u) for u in np.flatnonzero(dags.edges[i, :, v])) or "-"
            row = f"{v:>7} {dags.cycles[i, v] / GIGA:8.3f} {parents:>12} | "
            if v in placed:
                row += f"{PLACES[schedule.places[i, v]]:>6} {schedule.finish[i, v]:9.3f}"
            else:
                row += f"{'-':>6} {'':>9}"
            lines.append(row)
        return "\n".join(lines) + "\n"
    height, width, left = 160, 640, 60
    image = np.full((height, width, 3), 250, dtype=np.uint8)
    span = max(float(schedule.end[i]), 1e-12)
    scale = (width - left - 8) / span
    colours = np.array([[59, 117, 175], [229, 135, 74], [96, 170, 96]], dtype=np.uint8)
    run = schedule.run[i]
    for v in placed:
        place = int(schedule.places[i, v])
        end = schedule.finish[i, v]
        start = end - run[v, place]
        x0, x1 = (
            int(left + start * scale),
            max(int(left + end * scale), int(left + start * scale) + 1),
        )
        top = 20 + place * 45
        image[top : top + 30, x0:x1] = colours[place]
    for place in range(N_PLACES):  # lane guides
        image[20 + place * 45 + 32, left:] = 200
    return image


class MecOffloadDagEnv(gym.Env):
    """
    ## Description

    Offload a DAG task (SPEC-DAG, the paper's future work) one subtask per step, in the
    task's HEFT priority order: run it on the device, the edge or the cloud. Tasks come
    from a daggen-style generator (``fat``, ``density``, ``regularity``, ``jump``) on the
    scenario's ranges, or from ``task_pool``.

    ## Action Space

    `Discrete(3)`: the place of the current subtask (0 device, 1 edge, 2 cloud).

    ## Observation Space

    `Box(0, float32 max, (n**2 + 10n + 20,), float32)`: the subtasks' cycles, inputs and
    outputs, the edge-data matrix, the places chosen so far, the current subtask, finish
    times, when each resource is next free, the partial makespan and the platform
    (:mod:`gym_mecoffload.dag.observations` has the table).

    ## Rewards

    Minus the increase of the cost so far: for ``objective="latency"`` (default) the
    partial makespan's increase in seconds, so the return is minus the makespan. With
    ``reward_mode="relative"``, divided by the task's expert cost (the MILP's optimum;
    with contention the best known): scale-free, -1 for a policy that matches the expert.

    ## Episode End

    Terminated after n steps. The final info holds `makespan` (s), `energy` (J), `cost`,
    `decision`, and with ``optimum="milp"`` (or a labelled pool) the expert's
    `milp_decision`, `milp_cost`, `milp_exact`, `lower_bound` and, without contention,
    `optimal_cost`.

    ## Arguments

    * `n_subtasks` (20): subtasks per task, at most 64 (smaller pool graphs are padded).
    * `fat`, `density`, `regularity`, `jump`: the generator's (daggen's) parameters.
    * `scenario`: ranges of cycles, bytes and the platform (`"paper"`).
    * `contention` (False): one subtask at a time on the device and edge CPUs, one transfer
      at a time per link (SPEC-DAG section 2).
    * `objective`, `latency_weight`, `kappa`, `tx_power`, `rx_power`: as `MecOffload-v0`.
    * `task_pool`: a `DagBatch` or a labelled `DagDataset` to draw tasks from.
    * `optimum`: `"none"` (default) or `"milp"`: label each task at reset (milliseconds
      without contention; with contention the best known, seconds for large n).
    * `reward_mode`: `"absolute"` (default) or `"relative"` (needs the expert:
      ``optimum="milp"`` or a labelled pool).
    * `render_mode`: `"ansi"` or `"rgb_array"`.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(
        self,
        n_subtasks: int = 20,
        *,
        fat: float = 0.5,
        density: float = 0.5,
        regularity: float = 0.5,
        jump: int = 1,
        scenario: str | Scenario = "paper",
        contention: bool = False,
        objective: str | Objective = "latency",
        latency_weight: float = 0.5,
        kappa: float = 1e-27,
        tx_power: float = 0.5,
        rx_power: float = 0.1,
        task_pool: DagBatch | DagDataset | None = None,
        optimum: str = "none",
        reward_mode: RewardMode = "absolute",
        render_mode: str | None = None,
    ) -> None:
        arguments = locals()
        names = inspect.signature(DagSettings.validate).parameters
        self.settings = DagSettings.validate(**{name: arguments[name] for name in names})
        self.render_mode = check_render_mode(render_mode)
        self.layout = DagLayout(self.settings.n_subtasks)
        self.observation_space = spaces.Box(
            0.0, _OBS_HIGH, shape=(self.layout.size,), dtype=np.float32
        )
        self.action_space = spaces.Discrete(N_PLACES)
        self._episodes: DagEpisodes | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = {} if options is None else options
        if not isinstance(options, dict) or set(options) - {"dag"}:
            raise ValueError(
                f"reset options may hold only 'dag' (a DagBatch of one); got {options!r}"
            )
        if "dag" in options:
            dag = options["dag"]
            if (
                not isinstance(dag, DagBatch)
                or len(dag) != 1
                or dag.n_subtasks > self.settings.n_subtasks
            ):
                raise ValueError(
                    f"options['dag'] must be a DagBatch of one task of at most "
                    f"{self.settings.n_subtasks} subtasks; got {dag!r:.200}"
                )
            dags = pad_dags(dag, self.settings.n_subtasks)
            labels = None
            if self.settings.optimum == "milp":
                labels = label(dags, self.settings.objective, contention=self.settings.contention)
        else:
            dags, labels = self.settings.draw(1, self.np_random)
        self._episodes = DagEpisodes(dags, labels, self.settings)
        return self._episodes.observation[0].copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        episodes = self._episodes
        if episodes is None or episodes.done:
            raise RuntimeError("the episode is over (or never began): call reset() before step()")
        value = np.asarray(action)
        if value.shape != () or not holds_integers_below(value, N_PLACES):
            raise ValueError(f"action must be an integer place 0, 1 or 2; got {action!r}")
        increase = episodes.advance(np.array([int(value)]))
        info = {}
        if episodes.done:
            info = {
                key: (v[0].item() if v.ndim == 1 else v[0].copy())
                for key, v in episodes.final_infos().items()
            }
        reward = float(episodes.rewards(increase)[0])
        return episodes.observation[0].copy(), reward, episodes.done, False, info

    @property
    def dag(self) -> DagBatch:
        """The current task (padded), as a batch of one."""
        if self._episodes is None:
            raise RuntimeError("no task yet: call reset() first")
        return self._episodes.dags

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() was called without a render_mode ('ansi' or 'rgb_array')")
            return None
        if self._episodes is None:
            raise RuntimeError("nothing to render yet: call reset() first")
        return _render(self._episodes, 0, self.render_mode, "MecOffloadDagEnv")


class MecOffloadDagVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` copies of ``MecOffloadDag-v0`` stepped together in numpy (every episode
    lasts n steps, so they run in lockstep). Autoreset: the step after the last one resets
    every sub-env and ignores its actions (gymnasium 1.x's default, on both lines)."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(self, num_envs: int = 1, n_subtasks: int = 20, **kwargs: Any) -> None:
        self.single_env = MecOffloadDagEnv(n_subtasks, **kwargs)
        self.metadata = {**type(self).metadata, **autoreset_metadata("next_step")}
        self.settings = self.single_env.settings
        self.render_mode = self.single_env.render_mode
        self.num_envs = check_count("num_envs", num_envs, 1)
        self.single_observation_space = self.single_env.observation_space
        self.single_action_space = self.single_env.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.is_vector_env = True  # gymnasium 0.29's VectorEnv sets these three
        self.closed = False
        self.viewer = None
        self._np_random, _ = seeding.np_random()
        self._episodes: DagEpisodes | None = None
        self._pending_reset = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._np_random, _ = seeding.np_random(int(seed))
        if options:
            raise ValueError(f"the DAG vector env takes no reset options; got {options!r}")
        self._start()
        return self._episodes.observation.copy(), {}

    def _start(self) -> None:
        dags, labels = self.settings.draw(self.num_envs, self._np_random)
        self._episodes = DagEpisodes(dags, labels, self.settings)
        self._pending_reset = False

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._episodes is None:
            raise RuntimeError("call reset() before step()")
        falses = np.zeros(self.num_envs, dtype=bool)
        if self._pending_reset:
            self._start()
            return (
                self._episodes.observation.copy(),
                np.zeros(self.num_envs),
                falses,
                falses.copy(),
                {},
            )
        places = np.asarray(actions)
        if places.shape != (self.num_envs,) or not holds_integers_below(places, N_PLACES):
            raise ValueError(
                f"actions must be an integer array of shape ({self.num_envs},) of places 0, 1, 2; got {actions!r}"
            )
        rewards = self._episodes.rewards(self._episodes.advance(places.astype(np.int64)))
        observations = self._episodes.observation.copy()
        if not self._episodes.done:
            return observations, rewards, falses, falses.copy(), {}
        self._pending_reset = True
        final = self._episodes.final_infos()
        everyone = np.ones(self.num_envs, dtype=bool)
        masks = {f"_{key}": everyone.copy() for key in final}
        return observations, rewards, everyone, falses, {**final, **masks}

    def render(self) -> tuple[str | np.ndarray, ...] | None:
        if self.render_mode is None or self._episodes is None:
            return None
        return tuple(
            _render(self._episodes, i, self.render_mode, f"MecOffloadDagVectorEnv[{i}]")
            for i in range(self.num_envs)
        )

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release."""
