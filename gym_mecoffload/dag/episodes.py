"""The DAG family on the episodes protocol (:mod:`gym_mecoffload.core.episodes`): the
env's validated settings, N episodes stepped together in numpy (each step places every
task's next subtask in its HEFT priority order), where their tasks come from, and
rollouts of a policy outside an env."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from gym_mecoffload.core.checks import check_count
from gym_mecoffload.core.episodes import (
    OBS_HIGH,
    Episodes,
    EpisodeSource,
    RewardMode,
    check_relative_scale,
    check_reward_mode,
)
from gym_mecoffload.core.objective import (
    KAPPA,
    LATENCY_WEIGHT,
    RX_POWER,
    TX_POWER,
    Objective,
    make_objective,
)
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.core.topology import DEVICE_EDGE_CLOUD, N_PLACES
from gym_mecoffload.dag.data import DagDataset
from gym_mecoffload.dag.experts import Labels, label
from gym_mecoffload.dag.graphs import DagGenerator
from gym_mecoffload.dag.model import (
    DAG_FIELDS,
    DagBatch,
    Schedule,
    ScheduleOne,
    flow_bytes,
    priority_order,
)
from gym_mecoffload.dag.observations import DagLayout
from gym_mecoffload.dag.rendering import render_schedule

OPTIMA = ("milp", "none")
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
    generator: DagGenerator
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
        generator = DagGenerator(n_subtasks, fat, density, regularity, jump, scenario)
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
        check_reward_mode(reward_mode)
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
            latency_weight=LATENCY_WEIGHT,
            kappa=KAPPA,
            tx_power=TX_POWER,
            rx_power=RX_POWER,
            task_pool=task_pool,
            optimum="none",
        )

    def draw(self, size: int, rng: np.random.Generator) -> tuple[DagBatch, Labels | None]:
        """``size`` tasks (padded to n_subtasks) and, when the optimum is asked for or the
        pool carries it, their expert labels."""
        pool = self.task_pool
        if pool is None:
            dags = self.generator.generate(size, rng)
            return dags, self.expert_labels(dags)
        index = rng.integers(len(pool), size=size)
        if isinstance(pool, DagDataset):  # checked when it was made: not again per draw
            dags = pad_dags(pool.dags[index], self.n_subtasks)
            extra = self.n_subtasks - pool.dags.n_subtasks
            decisions = np.pad(pool.decisions[index].astype(np.int64), ((0, 0), (0, extra)))
            labels = Labels(
                decisions, pool.costs[index], pool.lower_bound[index], pool.exact[index]
            )
            return dags, labels
        dags = pad_dags(pool[index], self.n_subtasks)
        return dags, self.expert_labels(dags)

    def expert_labels(self, dags: DagBatch) -> Labels | None:
        """The expert's labels of ``dags`` when the env asks for them (``optimum="milp"``)."""
        if self.optimum != "milp":
            return None
        return label(dags, self.objective, contention=self.contention)


def _expert_infos(labels: Labels, contention: bool) -> dict[str, np.ndarray]:
    """The expert's part of the final infos (arrays with the episodes' leading axis)."""
    info = {
        "milp_decision": labels.decisions.astype(np.int64),
        "milp_cost": labels.costs.copy(),
        "milp_exact": labels.exact.copy(),
        "lower_bound": labels.lower_bound.copy(),
    }
    if not contention:
        info["optimal_cost"] = labels.costs.copy()
    return info


def _check_episodes(
    dags: DagBatch, labels: Labels | None, settings: DagSettings, device_joules: np.ndarray
) -> None:
    """Refuse tasks whose times a float32 observation cannot hold, and, with relative
    rewards, an expert cost that does not divide every reward finitely (``device_joules``
    (N, n): each subtask's run on the device, as the schedule holds them)."""
    # An upper bound of every time an episode can reach: all work and all bytes in a row
    # at the slowest place and link (contention serialises, never slows further).
    slowest = np.minimum(dags.device_hz, dags.edge_hz)
    per_byte = 1.0 / dags.edge_bandwidth + 1.0 / dags.cloud_bandwidth
    moved = flow_bytes(dags)
    seconds = dags.cycles.sum(axis=1) / slowest + 2 * moved * per_byte
    if not (seconds < _SAFE_SECONDS).all():
        i = int(np.argmax(~(seconds < _SAFE_SECONDS)))
        raise ValueError(
            f"task {i} can take up to {seconds[i]:.3g} s, beyond what a float32 observation "
            f"holds safely ({_SAFE_SECONDS:g} s): shrink its cycles or data, or raise its "
            "frequencies or bandwidths"
        )
    if settings.reward_mode != "relative" or labels is None:
        return
    # The dearest episode: those seconds at most, and every joule the device could spend.
    objective = settings.objective
    w = objective.latency_share
    radio = max(objective.tx_power, objective.rx_power) / dags.edge_bandwidth
    joules = device_joules.sum(axis=1) + moved * radio
    dearest = w * seconds + (1 - w) * joules
    check_relative_scale(labels.costs, dearest, "episode", lambda i: f"task {i}")


class DagEpisodes(Episodes):
    """N DAG episodes stepped together: each step places every task's next subtask in its
    priority order. Rewards are minus the increase of each task's cost so far."""

    def __init__(self, dags: DagBatch, labels: Labels | None, settings: DagSettings) -> None:
        self.dags, self.labels, self.settings = dags, labels, settings
        self.size = len(dags)
        self.layout = DagLayout(settings.n_subtasks)
        self.order = priority_order(dags)
        self.schedule = Schedule(dags, contention=settings.contention, objective=settings.objective)
        self.step_index = 0
        _check_episodes(dags, labels, settings, self.schedule.device_joules)
        self.observation = self.layout.static_part(dags)
        self.views = self.layout.current_rows(dags)
        self.layout.fill(self.observation, self.schedule, self.views, self.order[:, 0])

    @property
    def current(self) -> np.ndarray:
        """Each task's subtask to place now (N,)."""
        return self.order[:, self.step_index]

    @property
    def observation_batch(self) -> np.ndarray:
        """The current observations (N, size), not a copy."""
        return self.observation

    @property
    def places(self) -> np.ndarray:
        """The places chosen so far (N, n), -1 where not yet; not a copy."""
        return self.schedule.places

    @property
    def done(self) -> bool:
        return self.step_index == self.settings.n_subtasks

    def advance(self, places: np.ndarray) -> np.ndarray:
        """Place every task's current subtask; returns the step's cost increases (N,)."""
        before = self.schedule.cost
        placed = self.current
        self.schedule.add(placed, places)
        self.step_index += 1
        current = None if self.done else self.current
        self.layout.advance(self.observation, self.schedule, self.views, placed, current)
        return self.schedule.cost - before

    def observations(self) -> np.ndarray:
        return self.observation.copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        rewards = self.rewards(self.advance(actions.astype(np.int64, copy=False)))
        return rewards, (self.final_infos() if self.done else None)

    def replay_options(self, i: int) -> dict[str, Any]:
        """Task i (padded; a single env with an expert labels it again)."""
        return {"dag": self.dags[i]}

    def render(self, i: int, mode: str, title: str) -> str | np.ndarray:
        """Task i's schedule so far (:mod:`gym_mecoffload.dag.rendering`)."""
        schedule = self.schedule
        return render_schedule(
            self.dags[i],
            self.order[i],
            self.step_index,
            schedule.places[i],
            schedule.finish[i],
            float(schedule.end[i]),
            float(schedule.energy[i]),
            mode,
            title,
            contention=self.settings.contention,
            expert=None if self.labels is None else self.labels.decisions[i],
        )

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
            info.update(_expert_infos(self.labels, self.settings.contention))
        return info


class DagEpisode(Episodes):
    """One DAG episode, the single env's: :class:`DagEpisodes` for a batch of one on the
    single-task schedule (:class:`~gym_mecoffload.dag.model.ScheduleOne`), the
    observation updated entry by entry. Bit-identical to it (tested)."""

    __slots__ = (
        "dags",
        "labels",
        "settings",
        "layout",
        "order",
        "schedule",
        "step_index",
        "observation",
        "views",
        "scale",
    )
    size = 1

    def __init__(self, dags: DagBatch, labels: Labels | None, settings: DagSettings) -> None:
        self.dags, self.labels, self.settings = dags, labels, settings
        self.layout = DagLayout(settings.n_subtasks)
        self.order = priority_order(dags)[0].tolist()
        self.schedule = ScheduleOne(
            dags, contention=settings.contention, objective=settings.objective
        )
        self.step_index = 0
        _check_episodes(dags, labels, settings, np.array([self.schedule.device_joules]))
        relative = settings.reward_mode == "relative"
        self.scale = float(labels.costs[0]) if relative and labels is not None else None
        self.observation = self.layout.static_part(dags)[0]
        self.views = self.layout.current_rows(dags)[0]
        self.layout.start_one(self.observation, self.schedule, self.views, self.order[0])

    @property
    def done(self) -> bool:
        return self.step_index == self.settings.n_subtasks

    @property
    def current(self) -> np.ndarray:
        """The subtask to place now, as :attr:`DagEpisodes.current` (1,)."""
        return np.array([self.order[self.step_index]])

    @property
    def observation_batch(self) -> np.ndarray:
        """The current observation as a batch of one (1, size), not a copy."""
        return self.observation[None]

    @property
    def places(self) -> np.ndarray:
        """The places chosen so far (1, n), -1 where not yet."""
        return np.array([self.schedule.places])

    def advance(self, places: np.ndarray) -> np.ndarray:
        """Place the current subtask at ``places[0]``; the cost increase (1,)."""
        return np.array([self._place(int(places[0]))])

    def _place(self, action: int) -> float:
        """Place the current subtask at ``action`` and show the next; the cost increase."""
        schedule = self.schedule
        before = schedule.cost
        placed = self.order[self.step_index]
        schedule.add(placed, action)
        self.step_index += 1
        current = None if self.done else self.order[self.step_index]
        self.layout.advance_one(self.observation, schedule, self.views, placed, current)
        return schedule.cost - before

    def observations(self) -> np.ndarray:
        return self.observation[None].copy()

    def observation_one(self) -> np.ndarray:
        return self.observation.copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        _, reward, done, _ = self.step_one(int(actions[0]))
        return np.array([reward]), (self.final_infos() if done else None)

    def step_one(self, action: Any) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        increase = self._place(action)
        reward = -(increase / self.scale) if self.scale is not None else -increase
        if not self.done:
            return self.observation.copy(), reward, False, {}
        final = self.final_infos()
        info = {key: (v[0].item() if v.ndim == 1 else v[0].copy()) for key, v in final.items()}
        return self.observation.copy(), reward, True, info

    def final_infos(self) -> dict[str, np.ndarray]:
        """:meth:`DagEpisodes.final_infos` for the one episode."""
        schedule = self.schedule
        info = {
            "makespan": np.array([schedule.end]),
            "energy": np.array([schedule.energy]),
            "cost": np.array([schedule.cost]),
            "decision": np.array([schedule.places], dtype=np.int64),
        }
        if self.labels is not None:
            info.update(_expert_infos(self.labels, self.settings.contention))
        return info

    def replay_options(self, i: int) -> dict[str, Any]:
        return {"dag": self.dags}

    def render(self, i: int, mode: str, title: str) -> str | np.ndarray:
        schedule = self.schedule
        return render_schedule(
            self.dags,
            np.array(self.order),
            self.step_index,
            np.array(schedule.places),
            np.array(schedule.finish),
            schedule.end,
            schedule.energy,
            mode,
            title,
            contention=self.settings.contention,
            expert=None if self.labels is None else self.labels.decisions[0],
        )


class DagSource(EpisodeSource):
    """One DAG env's spaces, action checks and tasks: drawn from the generator or the pool,
    or, for a single env, given as ``options["dag"]``."""

    def __init__(self, settings: DagSettings, *, vector: bool) -> None:
        self.settings = settings
        self.vector = vector
        self.layout = DagLayout(settings.n_subtasks)
        self.observation_space = spaces.Box(
            0.0, OBS_HIGH, shape=(self.layout.size,), dtype=np.float32
        )
        self.action_space = spaces.Discrete(N_PLACES)

    def check_action(self, action: Any) -> int:
        return DEVICE_EDGE_CLOUD.check_action(action)

    def check_actions(self, actions: Any, size: int) -> np.ndarray:
        return DEVICE_EDGE_CLOUD.check_actions(actions, (size,))

    def start(
        self, size: int, rng: np.random.Generator, options: dict[str, Any], reseeded: bool
    ) -> DagEpisodes | DagEpisode:
        if self.vector and options:
            raise ValueError(
                f"the DAG vector env takes no reset options; got {sorted(options, key=str)}"
            )
        if set(options) - {"dag"}:
            raise ValueError(
                f"reset options may hold only 'dag' (a DagBatch of one); got "
                f"{sorted(options, key=str)}"
            )
        settings = self.settings
        episodes = DagEpisodes if self.vector else DagEpisode
        if "dag" not in options:
            dags, labels = settings.draw(size, rng)
            return episodes(dags, labels, settings)
        dag = options["dag"]
        if not isinstance(dag, DagBatch) or len(dag) != 1 or dag.n_subtasks > settings.n_subtasks:
            raise ValueError(
                f"options['dag'] must be a DagBatch of one task of at most "
                f"{settings.n_subtasks} subtasks; got {dag!r:.200}"
            )
        dags = pad_dags(dag, settings.n_subtasks)
        return episodes(dags, settings.expert_labels(dags), settings)


# A policy for :func:`rollout`: the observations (N, size) and the episodes (for their
# ``current`` subtasks and ``places`` so far) in, the places (N,) out.
Decide = Callable[[np.ndarray, "DagEpisodes | DagEpisode"], np.ndarray]


def rollout(
    dags: DagBatch,
    decide: Decide,
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
    # One task steps on the single-task path, the same episode bit for bit.
    episodes = (
        DagEpisode(dags, None, settings) if len(dags) == 1 else DagEpisodes(dags, None, settings)
    )
    seen, chosen = [], []
    while not episodes.done:
        observations = episodes.observation_batch
        decided = decide(observations, episodes)
        try:  # 5 or 1.7 must not read as a place
            places = DEVICE_EDGE_CLOUD.check_actions(decided, (episodes.size,)).astype(np.int64)
        except ValueError as error:
            raise ValueError(f"decide, at step {episodes.step_index}: {error}") from None
        if record:
            seen.append(observations.copy())
            chosen.append(places)
        episodes.advance(places)
    decisions = episodes.places.copy()
    if not record:
        return decisions, None, None
    return decisions, np.concatenate(seen), np.concatenate(chosen)
