"""DAG tasks (SPEC-DAG): the batch, the makespan with and without contention, energy, cost.

A task is n subtasks in a topological order (every edge u -> v has u < v). Places,
routes and per-byte costs are the core's device-edge-cloud topology
(:mod:`gym_mecoffload.core.topology`, :mod:`gym_mecoffload.core.costs`): device 0,
edge 1, cloud 2, and traffic between device and cloud passes through the edge; the
schedule runs on the core's :class:`~gym_mecoffload.core.timeline.Timeline`. On a
chain every number here equals the chain model's (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gym_mecoffload.core.checks import (
    FieldBatch,
    check_representable,
    check_switch,
    first_bad,
    real_array,
)
from gym_mecoffload.core.costs import per_byte_costs
from gym_mecoffload.core.objective import Objective, as_objective, checked_device_joules
from gym_mecoffload.core.timeline import Timeline, TimelineOne
from gym_mecoffload.core.topology import (
    DEVICE,
    DEVICE_EDGE_CLOUD,
    N_PLACES,
    PLATFORM_FIELDS,
    bandwidths,
    place_hz,
    platform_arrays,
)

DAG_FIELDS = ("cycles", "edges", "edge_data", "input_data", "output_data", *PLATFORM_FIELDS)


@dataclass(frozen=True)
class DagBatch(FieldBatch):
    """A batch of N DAG tasks of n subtasks each (SPEC-DAG section 1), SI units.

    Attributes:
        cycles: (N, n) CPU cycles of each subtask (>= 0).
        edges: (N, n, n) bool, strictly upper triangular: ``edges[i, u, v]`` means
            subtask v of task i needs u's output.
        edge_data: (N, n, n) bytes u sends to v (>= 0; 0 off the edges).
        input_data: (N, n) bytes of the task's input that each subtask reads from the device.
        output_data: (N, n) bytes each subtask returns to the device.
        device_hz, edge_hz, edge_bandwidth, cloud_bandwidth, cloud_hz: (N,) as
            :class:`~gym_mecoffload.chain.model.TaskBatch` (``cloud_hz`` may be ``inf``).
    """

    cycles: np.ndarray
    edges: np.ndarray
    edge_data: np.ndarray
    input_data: np.ndarray
    output_data: np.ndarray
    device_hz: np.ndarray
    edge_hz: np.ndarray
    edge_bandwidth: np.ndarray
    cloud_bandwidth: np.ndarray
    cloud_hz: np.ndarray = field(default=None)  # type: ignore[assignment]

    FIELDS = DAG_FIELDS

    def __post_init__(self) -> None:
        cycles = real_array("cycles", self.cycles, "CPU cycles")
        if cycles.ndim != 2 or cycles.shape[1] < 1:
            raise ValueError(f"cycles must have shape (N, n) with n >= 1; got {cycles.shape}")
        size, n = cycles.shape
        edges = np.asarray(self.edges)
        if edges.dtype != bool:
            raise ValueError(f"edges must be a bool array (N, n, n); got dtype {edges.dtype}")
        if edges.shape != (size, n, n):
            raise ValueError(f"edges must have shape (N, n, n) = {(size, n, n)}; got {edges.shape}")
        lower = ~np.triu(np.ones((n, n), dtype=bool), k=1)
        if (edges & lower).any():
            i, u, v = (int(x) for x in np.argwhere(edges & lower)[0])
            raise ValueError(
                "edges must be strictly upper triangular (subtasks in a topological order, "
                f"every edge u -> v with u < v); task {i} has an edge {u} -> {v}"
            )
        values: dict[str, np.ndarray] = {"cycles": cycles}
        for name, shape in (
            ("edge_data", (size, n, n)),
            ("input_data", (size, n)),
            ("output_data", (size, n)),
        ):
            array = real_array(name, getattr(self, name), "bytes")
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}; got {array.shape}")
            values[name] = array
        for name in ("cycles", "edge_data", "input_data", "output_data"):
            array = values[name]
            bad = ~np.isfinite(array) | (array < 0)
            if bad.any():
                raise ValueError(f"{name} must be finite and >= 0; got {first_bad(array, bad)}")
        off_edges = (values["edge_data"] != 0) & ~edges
        if off_edges.any():
            i, u, v = (int(x) for x in np.argwhere(off_edges)[0])
            raise ValueError(
                f"edge_data must be 0 off the edges; task {i} sends "
                f"{values['edge_data'][i, u, v]!r} bytes from {u} to {v} without an edge"
            )
        values.update(platform_arrays(self, size))
        for name, array in values.items():
            observed = "data" if name.endswith("_data") else name
            check_representable(observed, array, name)
        values["edges"] = edges.copy()
        for name, array in values.items():
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def n_subtasks(self) -> int:
        return self.cycles.shape[1]

    @classmethod
    def from_chain(cls, chain: Any) -> DagBatch:
        """The chain of SPEC.md (a :class:`~gym_mecoffload.chain.model.TaskBatch`) as a DAG: ``edges[t - 1, t]`` carrying ``data[t]``, the
        input into subtask 0 and the output from subtask n - 1."""
        size, n = chain.n_tasks, chain.n_subtasks
        edges = np.zeros((size, n, n), dtype=bool)
        edge_data = np.zeros((size, n, n))
        steps = np.arange(1, n)
        edges[:, steps - 1, steps] = True
        edge_data[:, steps - 1, steps] = chain.data[:, 1:n]
        input_data = np.zeros((size, n))
        input_data[:, 0] = chain.data[:, 0]
        output_data = np.zeros((size, n))
        output_data[:, n - 1] = chain.data[:, n]
        return cls(
            chain.cycles,
            edges,
            edge_data,
            input_data,
            output_data,
            chain.device_hz,
            chain.edge_hz,
            chain.edge_bandwidth,
            chain.cloud_bandwidth,
            chain.cloud_hz,
        )


def require_dags(dags: Any) -> DagBatch:
    if not isinstance(dags, DagBatch):
        raise TypeError(f"dags must be a DagBatch; got {type(dags).__name__}")
    return dags


def run_seconds(dags: DagBatch) -> np.ndarray:
    """Execution seconds (N, n, 3) of each subtask at each place (the cloud's is 0 at inf Hz)."""
    return dags.cycles[:, :, None] / place_hz(dags).T[:, None, :]


def seconds_per_byte(dags: DagBatch) -> np.ndarray:
    """Seconds (N, 3, 3) to move one byte from place a to place b (SPEC.md section 1)."""
    return np.moveaxis(per_byte_costs("latency", dags.edge_bandwidth, dags.cloud_bandwidth), -1, 0)


def _pairs(table: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``table[i, source[i, ...], target[i, ...]]`` for a (N, 3, 3) table."""
    rows = np.arange(len(table)).reshape((-1,) + (1,) * (source.ndim - 1))
    return table[rows, source, target]


def makespan(dags: DagBatch, decisions: Any, *, contention: bool = False) -> np.ndarray:
    """Latency (N,) in seconds: the time the last subtask or output transfer ends (SPEC-DAG
    section 2), without or with contention for the CPUs and links."""
    places = check_decisions_dag(dags, decisions)
    timeline = Schedule(dags, contention=contention)
    order = (
        priority_order(dags) if contention else np.tile(np.arange(dags.n_subtasks), (len(dags), 1))
    )
    rows = np.arange(len(dags))
    for k in range(dags.n_subtasks):
        v = order[:, k]
        timeline.add(v, places[rows, v])
    return timeline.end


def joules_per_byte(dags: DagBatch, objective: Objective) -> np.ndarray:
    """The device's joules (N, 3, 3) to move one byte from place a to place b."""
    return np.moveaxis(
        per_byte_costs(
            replace(objective, name="energy"), dags.edge_bandwidth, dags.cloud_bandwidth
        ),
        -1,
        0,
    )


def dag_device_joules(dags: DagBatch, objective: Objective) -> np.ndarray:
    """Joules (N, n) of each subtask run on the device; a ValueError naming the constants
    where a task's energy could overflow a float64."""
    return checked_device_joules(
        objective, dags.cycles, dags.device_hz, dags.edge_bandwidth, flow_bytes(dags)
    )


def flow_bytes(dags: DagBatch) -> np.ndarray:
    """Bytes (N,) of every flow of each task: its input, its edges' data and its output."""
    return (
        dags.input_data.sum(axis=1) + dags.edge_data.sum(axis=(1, 2)) + dags.output_data.sum(axis=1)
    )


def energy(dags: DagBatch, decisions: Any, objective: str | Objective = "energy") -> np.ndarray:
    """Joules (N,) the device spends: its executions and every transfer its radio makes
    (SPEC.md section 1 per subtask and per transfer; timing does not matter)."""
    places = check_decisions_dag(dags, decisions)
    constants = as_objective(objective)
    per_byte = joules_per_byte(dags, constants)
    on_device = places == DEVICE
    run = np.where(on_device, dag_device_joules(dags, constants), 0.0)
    device = np.full_like(places, DEVICE)
    n = places.shape[1]
    moved = dags.edge_data * _pairs(
        per_byte, np.repeat(places[:, :, None], n, axis=2), np.repeat(places[:, None, :], n, axis=1)
    )
    total = (
        run.sum(axis=1)
        + (dags.input_data * _pairs(per_byte, device, places)).sum(axis=1)
        + moved.sum(axis=(1, 2))
        + (dags.output_data * _pairs(per_byte, places, device)).sum(axis=1)
    )
    return total


def cost(
    dags: DagBatch,
    decisions: Any,
    objective: str | Objective = "latency",
    *,
    contention: bool = False,
) -> np.ndarray:
    """The objective (N,): makespan in seconds, the device's joules, or their weighted sum."""
    objective = as_objective(objective)
    if objective.name == "latency":
        return makespan(dags, decisions, contention=contention)
    if objective.name == "energy":
        return energy(dags, decisions, objective)
    w = objective.latency_weight
    return w * makespan(dags, decisions, contention=contention) + (1 - w) * energy(
        dags, decisions, objective
    )


def check_decisions_dag(dags: DagBatch, decisions: Any) -> np.ndarray:
    """``decisions`` as (N, n) int places, or a ValueError saying what is allowed."""
    return DEVICE_EDGE_CLOUD.check_places(decisions, (require_dags(dags).n_tasks, dags.n_subtasks))


def priority_order(dags: DagBatch) -> np.ndarray:
    """Each task's subtasks by decreasing upward rank (HEFT; SPEC-DAG section 4), ties by
    index: (N, n). ``rank[v] = w[v] + max over v -> s of (e[v, s] + rank[s])`` with ``w``
    the mean execution time over the places and ``e`` the mean transfer time over pairs."""
    size, n = dags.n_tasks, dags.n_subtasks
    mean_run = run_seconds(dags).mean(axis=2)  # (N, n)
    mean_per_byte = seconds_per_byte(dags).mean(axis=(1, 2))  # (N,)
    mean_move = dags.edge_data * mean_per_byte[:, None, None]
    if size == 1:  # one task: the same sums and maxima on Python floats, without numpy's overhead
        return np.array([_priority_order_one(dags.edges[0], mean_run[0], mean_move[0])])
    rank = np.zeros((size, n))
    for v in range(n - 1, -1, -1):
        after = np.where(
            dags.edges[:, v, v + 1 :], mean_move[:, v, v + 1 :] + rank[:, v + 1 :], 0.0
        )
        rank[:, v] = mean_run[:, v] + (after.max(axis=1) if v + 1 < n else 0.0)
    # Decreasing rank, ties by index: a stable sort of -rank. A parent's rank exceeds its
    # child's (w, e >= 0), but a zero-work subtask ties its child: the index breaks it.
    return np.argsort(-rank, axis=1, kind="stable")


def _priority_order_one(
    edges: np.ndarray, mean_run: np.ndarray, mean_move: np.ndarray
) -> list[int]:
    n = len(mean_run)
    run, move = mean_run.tolist(), mean_move.tolist()
    children = [np.flatnonzero(edges[v]).tolist() for v in range(n)]
    rank = [0.0] * n
    for v in range(n - 1, -1, -1):
        # Non-children count 0.0 in the batched maximum; every term is >= 0.
        after = max([move[v][s] + rank[s] for s in children[v]], default=0.0)
        rank[v] = run[v] + (max(after, 0.0) if v + 1 < n else 0.0)
    return sorted(range(n), key=lambda v: -rank[v])  # stable: ties by index


def objective_value(objective: Objective, seconds: Any, joules: Any) -> Any:
    """The objective of a latency in ``seconds`` and an energy in ``joules`` (arrays or
    floats): one of them, or ``w * seconds + (1 - w) * joules``."""
    if objective.name == "latency":
        return seconds
    if objective.name == "energy":
        return joules
    w = objective.latency_weight
    return w * seconds + (1 - w) * joules


class Schedule:
    """A batch of partial schedules, one subtask added at a time (all its parents first).

    ``cost`` is the objective so far: the partial makespan, the device's joules so
    far (``energy``), or their weighted sum.

    Without contention a subtask starts once its inputs have arrived (SPEC-DAG's
    recursion); with contention, the device and edge CPUs and the four links
    serve one at a time (the :class:`~gym_mecoffload.core.timeline.Timeline`'s
    queues), in the order subtasks are added, as SPEC-DAG section 2
    says. ``end`` (N,) is the partial makespan: the latest finish or output
    return so far; once every subtask is added, the makespan.
    """

    def __init__(
        self,
        dags: DagBatch,
        *,
        contention: bool = False,
        objective: str | Objective = "latency",
    ) -> None:
        self.dags = require_dags(dags)
        self.contention = check_switch("contention", contention)
        self.objective = as_objective(objective)
        # The device's joules: per byte between places, and per subtask run on the device.
        self.joules_per_byte = joules_per_byte(dags, self.objective)
        self.device_joules = dag_device_joules(dags, self.objective)
        self.energy = np.zeros(dags.n_tasks)
        size, n = dags.n_tasks, dags.n_subtasks
        self.rows = np.arange(size)
        self.run = run_seconds(dags)  # (N, n, 3)
        self.timeline = Timeline(DEVICE_EDGE_CLOUD, bandwidths(dags), contention=contention)
        self.places = np.full((size, n), -1, dtype=np.int64)
        self.finish = np.zeros((size, n))
        self.end = np.zeros(size)
        # Each subtask's parents, in increasing index, padded to the batch's largest
        # in-degree (mask False): one gather finds a subtask's inputs.
        in_degree = dags.edges.sum(axis=1)  # (N, n)
        width = int(in_degree.max()) if in_degree.size else 0
        order = np.argsort(~dags.edges, axis=1, kind="stable")[:, :width, :]  # (N, width, n)
        self.parents = np.ascontiguousarray(np.swapaxes(order, 1, 2))  # (N, n, width)
        self.parent_mask = np.arange(width) < in_degree[:, :, None]
        self.parent_data = np.where(
            self.parent_mask,
            np.take_along_axis(
                np.swapaxes(dags.edge_data, 1, 2), self.parents, axis=2
            ),  # edge_data[i, parents[i, v, k], v]
            0.0,
        )
        self._options: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def links(self) -> np.ndarray | None:
        """When each link is next free (N, 4) in seconds, with contention (else None): 0
        device -> edge, 1 edge -> cloud, 2 cloud -> edge, 3 edge -> device."""
        return self.timeline.links

    @property
    def cpus(self) -> np.ndarray | None:
        """When the device's and the edge's CPUs are next free (N, 3) in seconds, with
        contention (else None; the cloud's column stays 0: it never queues)."""
        return self.timeline.cpus

    def _times(
        self, v: np.ndarray, place: np.ndarray, timeline: Timeline
    ) -> tuple[np.ndarray, np.ndarray]:
        """When subtask ``v`` would finish at ``place`` and when its output would be back on
        the device (N,) each, on ``timeline`` (which, with contention, it occupies)."""
        dags, size = self.dags, len(v)
        rows = self.rows[:size]
        device = np.zeros(size, dtype=np.int64)
        amount = dags.input_data[rows, v]
        ready = timeline.transfer(amount, device, place, np.zeros(size), amount > 0)
        if self.contention:  # links queue in the order of the parents
            for u in range(dags.n_subtasks):
                edge = dags.edges[rows, u, v]
                if not edge.any():
                    continue
                arrived = timeline.transfer(
                    dags.edge_data[rows, u, v],
                    np.maximum(self.places[:, u], 0),
                    place,
                    self.finish[:, u],
                    edge,
                )
                ready = np.where(edge, np.maximum(ready, arrived), ready)
        else:  # every parent at once: no queue orders them
            ready = self._parents_arrived(rows, v, place[:, None], ready)
        finish = timeline.run(place, ready, self.run[rows, v, place])
        amount = dags.output_data[rows, v]
        back = timeline.transfer(amount, place, device, finish, amount > 0)
        return finish, back

    def options(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Subtask ``v``'s finish time and the partial makespan if it went to each place
        (N, 3) each, leaving this schedule as it is (HEFT's question, the view's answer)."""
        if not self.contention:
            finish, back = self._free_options(v)
            self._options = (v.copy(), finish, back)  # the same times again when v is placed
            return finish, np.maximum(self.end[:, None], np.maximum(finish, back))
        size = len(v)
        finish, back = np.empty((size, N_PLACES)), np.empty((size, N_PLACES))
        for place in range(N_PLACES):
            finish[:, place], back[:, place] = self._times(
                v, np.full(size, place, dtype=np.int64), self.timeline.copy()
            )
        return finish, np.maximum(self.end[:, None], np.maximum(finish, back))

    def _parents_arrived(
        self, rows: np.ndarray, v: np.ndarray, target: np.ndarray, ready: np.ndarray
    ) -> np.ndarray:
        """Without contention: ``ready`` (N,) or (N, 3) raised to when the last of subtask
        ``v``'s parents' data arrives at ``target`` (each task's place (N, 1), or every
        place (3,)), all parents at once (nothing queues, so their order does not matter)."""
        if not self.parents.shape[2]:  # no task of the batch has an edge
            return ready
        parents, mask = self.parents[rows, v], self.parent_mask[rows, v]  # (N, width)
        at = (slice(None), slice(None)) + (None,) * (ready.ndim - 1)  # (N, width, 1) for 3 places
        arrived = self.timeline.arrivals(
            self.parent_data[rows, v][at],
            np.maximum(np.take_along_axis(self.places, parents, axis=1), 0)[at],
            target,
            np.take_along_axis(self.finish, parents, axis=1)[at],
        )
        return np.maximum(ready, np.where(mask[at], arrived, ready[:, None]).max(axis=1))

    def _free_options(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_times` at every place at once (N, 3), without contention."""
        dags, timeline = self.dags, self.timeline
        rows = self.rows[: len(v)]
        every = np.arange(N_PLACES)
        ready = timeline.arrivals(dags.input_data[rows, v][:, None], 0, every, 0.0)
        ready = self._parents_arrived(rows, v, every, ready)
        finish = ready + self.run[rows, v]
        back = timeline.arrivals(dags.output_data[rows, v][:, None], every, 0, finish)
        return finish, back

    def add(self, v: np.ndarray, place: np.ndarray) -> None:
        """Schedule subtask ``v[i]`` of task i at ``place[i]`` (both (N,) integer arrays)."""
        dags, size = self.dags, len(v)
        rows = self.rows[:size]
        known = self._options
        self._options = None
        if known is not None and np.array_equal(known[0], v):
            finish, back = known[1][rows, place], known[2][rows, place]
        else:
            finish, back = self._times(v, place, self.timeline)
        # Each transfer's energy is counted once, when its target subtask is added: the
        # input, the run, the output, then the parents' data in increasing index.
        joules = self.joules_per_byte
        energy = self.energy + dags.input_data[rows, v] * joules[rows, DEVICE, place]
        energy += np.where(place == DEVICE, self.device_joules[rows, v], 0.0)
        energy += dags.output_data[rows, v] * joules[rows, place, DEVICE]
        if self.parents.shape[2]:
            parents = self.parents[rows, v]
            sources = np.maximum(np.take_along_axis(self.places, parents, axis=1), 0)
            moved = self.parent_data[rows, v] * joules[rows[:, None], sources, place[:, None]]
            # Added one after another (accumulate is sequential), as parent by parent.
            energy = np.add.accumulate(np.concatenate([energy[:, None], moved], axis=1), axis=1)[
                :, -1
            ]
        self.energy = energy
        self.finish[rows, v] = finish
        self.places[rows, v] = place
        self.end = np.maximum(self.end, np.maximum(finish, back))

    @property
    def cost(self) -> np.ndarray:
        """The objective so far (N,): seconds, joules or their weighted sum."""
        return objective_value(self.objective, self.end, self.energy)


class ScheduleOne:
    """:class:`Schedule` of one task (a batch of one), in plain Python floats: for stepping
    one task at a time, where numpy's per-call overhead on arrays of one costs more than
    the arithmetic. The same operations in the same order, so every time, joule and cost
    is bit-identical to the batched schedule's (tested).
    """

    __slots__ = (
        "dags",
        "contention",
        "objective",
        "timeline",
        "run",
        "inputs",
        "outputs",
        "parents",
        "device_joules",
        "joules_per_byte",
        "places",
        "finish",
        "end",
        "energy",
        "_options",
    )

    def __init__(
        self,
        dags: DagBatch,
        *,
        contention: bool = False,
        objective: str | Objective = "latency",
    ) -> None:
        if len(require_dags(dags)) != 1:
            raise ValueError(f"a single-task schedule takes a batch of one task; got {len(dags)}")
        self.dags = dags
        self.contention = check_switch("contention", contention)
        self.objective = as_objective(objective)
        n = dags.n_subtasks
        self.run = run_seconds(dags)[0].tolist()  # [v][place] seconds
        self.inputs = dags.input_data[0].tolist()
        self.outputs = dags.output_data[0].tolist()
        data = dags.edge_data[0].tolist()
        # Each subtask's parents in increasing index (nonzero's order), with their bytes.
        self.parents: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        for u, v in zip(*(axis.tolist() for axis in np.nonzero(dags.edges[0])), strict=True):
            self.parents[v].append((u, data[u][v]))
        self.device_joules = dag_device_joules(dags, self.objective)[0].tolist()
        self.joules_per_byte = joules_per_byte(dags, self.objective)[0].tolist()
        self.timeline = TimelineOne(
            DEVICE_EDGE_CLOUD,
            [float(b[0]) for b in bandwidths(dags)],
            contention=self.contention,
        )
        self.places = [-1] * n
        self.finish = [0.0] * n
        self.end = 0.0
        self.energy = 0.0
        self._options: tuple[int, list[float], list[float]] | None = None

    def _times(self, v: int, place: int, timeline: TimelineOne) -> tuple[float, float]:
        """As :meth:`Schedule._times`: subtask v's finish at ``place`` and its output's
        return to the device, on ``timeline`` (occupied with contention)."""
        amount = self.inputs[v]
        ready = timeline.transfer(amount, DEVICE, place, 0.0) if amount > 0 else 0.0
        places, finish = self.places, self.finish
        for u, moved in self.parents[v]:
            source = places[u] if places[u] > 0 else 0
            arrived = timeline.transfer(moved, source, place, finish[u])
            if arrived > ready:
                ready = arrived
        done = timeline.run(place, ready, self.run[v][place])
        amount = self.outputs[v]
        back = timeline.transfer(amount, place, DEVICE, done) if amount > 0 else done
        return done, back

    def options(self, v: int) -> tuple[list[float], list[float]]:
        """Subtask v's finish time and the partial makespan at each place (3 each)."""
        finishes, backs, ends = [], [], []
        for place in range(N_PLACES):
            timeline = self.timeline.copy() if self.contention else self.timeline
            done, back = self._times(v, place, timeline)
            finishes.append(done)
            backs.append(back)
            ends.append(max(self.end, max(done, back)))
        if not self.contention:
            self._options = (v, finishes, backs)
        return finishes, ends

    def add(self, v: int, place: int) -> None:
        """Schedule subtask v at ``place``."""
        known, self._options = self._options, None
        if known is not None and known[0] == v:
            done, back = known[1][place], known[2][place]
        else:
            done, back = self._times(v, place, self.timeline)
        joules = self.joules_per_byte
        energy = self.energy + self.inputs[v] * joules[DEVICE][place]
        if place == DEVICE:
            energy += self.device_joules[v]
        energy += self.outputs[v] * joules[place][DEVICE]
        places = self.places
        for u, moved in self.parents[v]:
            energy += moved * joules[places[u] if places[u] > 0 else 0][place]
        self.energy = energy
        self.finish[v] = done
        places[v] = place
        self.end = max(self.end, max(done, back))

    @property
    def cost(self) -> float:
        """The objective so far: seconds, joules or their weighted sum."""
        return objective_value(self.objective, self.end, self.energy)
