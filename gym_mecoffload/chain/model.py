"""The chain model: offloading requirements, their costs and how they are sampled.

Everything here is a pure, vectorised numpy function over a *batch* of tasks,
so that the environments, the solvers, the dataset generator and the benchmark
all share one definition of latency and energy (``../shared/SPEC.md`` section 1,
the paper's Sec. 3.2).

A task is a chain of ``n`` subtasks. Subtask ``t`` needs ``cycles[t]`` CPU
cycles; ``data[t]`` bytes flow into it from subtask ``t - 1`` (``data[0]`` is the
task's input, which starts on the device) and ``data[n]`` is the task's output,
which must end on the device. A *decision* places every subtask on
``DEVICE`` (0), ``EDGE`` (1) or ``CLOUD`` (2) of the device-edge-cloud topology
(:mod:`gym_mecoffload.core.topology`).

Units are SI throughout: cycles, bytes, Hz, bytes/s, seconds, joules, watts.
Observations (:func:`features`) use engineering units (Gcycles, MB, GHz, MB/s)
so that a network sees numbers of order one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gym_mecoffload.core.checks import (
    GIGA,
    MEGA,
    FieldBatch,
    check_count,
    check_representable,
    first_bad,
    real_array,
    require_finite,
)
from gym_mecoffload.core.costs import per_byte_costs
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.objective import (
    KAPPA,
    RX_POWER,
    TX_POWER,
    Objective,
    as_objective,
    checked_device_joules,
    device_joules,
)
from gym_mecoffload.core.scenario import Scenario, as_scenario
from gym_mecoffload.core.topology import (
    DEVICE,
    DEVICE_EDGE_CLOUD,
    N_PLACES,
    PLATFORM_FIELDS,
    bandwidths,
    place_hz,
    platform_arrays,
)

STATE_FIELDS = (
    "cycles",
    "data",
    "device_hz",
    "edge_hz",
    "edge_bandwidth",
    "cloud_bandwidth",
    "cloud_hz",
)


@dataclass(frozen=True)
class TaskBatch(FieldBatch):
    """A batch of ``N`` offloading requirements S = (E, D, p1, p2, b1, b2).

    Every field has a leading batch axis. Values are validated on construction:
    a bad field raises ``ValueError`` naming the field, the bad value and what is
    allowed.

    Attributes:
        cycles: (N, n) CPU cycles each subtask needs (>= 0).
        data: (N, n + 1) bytes flowing into each subtask; ``data[:, 0]`` is the
            task's input and ``data[:, n]`` its output (>= 0).
        device_hz: (N,) end device CPU frequency p1 in Hz (> 0).
        edge_hz: (N,) edge server CPU frequency p2 in Hz (> 0).
        edge_bandwidth: (N,) device <-> edge bandwidth b1 in bytes/s (> 0).
        cloud_bandwidth: (N,) edge <-> cloud bandwidth b2 in bytes/s (> 0).
        cloud_hz: (N,) cloud CPU frequency in Hz (> 0, may be ``inf``: the
            paper neglects cloud execution time, which is the default).
    """

    cycles: np.ndarray
    data: np.ndarray
    device_hz: np.ndarray
    edge_hz: np.ndarray
    edge_bandwidth: np.ndarray
    cloud_bandwidth: np.ndarray
    cloud_hz: np.ndarray = field(default=None)  # type: ignore[assignment]

    FIELDS = STATE_FIELDS

    def __post_init__(self) -> None:
        cycles = real_array("cycles", self.cycles, "CPU cycles")
        if cycles.ndim != 2 or cycles.shape[1] < 1:
            raise ValueError(
                f"cycles must have shape (N, n) with n >= 1 subtasks; got shape {cycles.shape}"
            )
        n_tasks, n_subtasks = cycles.shape
        data = real_array("data", self.data, "bytes")
        if data.shape != (n_tasks, n_subtasks + 1):
            raise ValueError(
                f"data must have one more entry per task than cycles (the input, n - 1 "
                f"intermediate flows and the output): cycles has shape {cycles.shape}, so data "
                f"must be {(n_tasks, n_subtasks + 1)}; got {data.shape}"
            )
        values = {"cycles": cycles, "data": data}
        values.update(platform_arrays(self, n_tasks))
        for name in ("cycles", "data"):
            array = values[name]
            bad = ~np.isfinite(array) | (array < 0)
            if bad.any():
                unit = "CPU cycles" if name == "cycles" else "bytes"
                raise ValueError(
                    f"{name} must be finite and >= 0 ({unit}); got {first_bad(array, bad)}"
                )
        for name, array in values.items():
            check_representable(name, array)
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def n_subtasks(self) -> int:
        """Number of subtasks n of every task."""
        return self.cycles.shape[1]

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TaskBatch:
        """A batch of one task from a mapping with the SPEC's field names, in SI units.

        ``cycles`` is a length-n sequence, ``data`` a length-(n + 1) sequence, the
        others scalars; ``cloud_hz`` is optional (default ``inf``).
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"state must be a mapping of {STATE_FIELDS}; got {type(state).__name__}"
            )
        unknown = sorted(set(state) - set(STATE_FIELDS))
        missing = [name for name in STATE_FIELDS[:-1] if name not in state]
        if unknown or missing:
            raise ValueError(
                f"state has unknown fields {unknown} and misses fields {missing}; "
                f"allowed fields are {list(STATE_FIELDS)} (cloud_hz is optional)"
            )
        one_task = {}
        for name in STATE_FIELDS:
            if name not in state:
                continue
            value = real_array(f"state[{name!r}]", state[name], "SI units")
            expected_ndim = 1 if name in ("cycles", "data") else 0
            if value.ndim != expected_ndim:
                kind = "a 1-D sequence" if expected_ndim else "a scalar"
                raise ValueError(f"state[{name!r}] must be {kind}; got shape {value.shape}")
            one_task[name] = value[None]
        return cls(**one_task)

    def state(self, index: int) -> dict[str, Any]:
        """Task ``index`` as a mapping accepted by :meth:`from_state` (SI units)."""
        return {name: (getattr(self, name)[index].tolist()) for name in STATE_FIELDS}

    @classmethod
    def from_features(cls, features: np.ndarray, cloud_hz: float = math.inf) -> TaskBatch:
        """Invert :func:`features`: a batch from (N, 2n + 5) engineering-unit rows.

        Observations are float32, so the result is exact to about 7 digits.
        """
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] < 7 or (features.shape[1] - 5) % 2:
            raise ValueError(
                f"features must have shape (N, 2n + 5) with n >= 1; got {features.shape}"
            )
        n = (features.shape[1] - 5) // 2
        return cls(
            cycles=features[:, :n] * GIGA,
            data=features[:, n : 2 * n + 1] * MEGA,
            device_hz=features[:, 2 * n + 1] * GIGA,
            edge_hz=features[:, 2 * n + 2] * GIGA,
            edge_bandwidth=features[:, 2 * n + 3] * MEGA,
            cloud_bandwidth=features[:, 2 * n + 4] * MEGA,
            cloud_hz=cloud_hz,
        )


def require_batch(batch: Any, name: str = "batch") -> TaskBatch:
    """``batch`` if it is a :class:`TaskBatch`, else a TypeError saying how to make one."""
    if not isinstance(batch, TaskBatch):
        raise TypeError(
            f"{name} must be a TaskBatch (TaskBatch.from_state(...) makes one from a mapping "
            f"of the SPEC's fields); got {type(batch).__name__}"
        )
    return batch


# The cost tables are built batch-last, (..., N), so that every operation is a
# contiguous vector op over the batch; the public functions return (N, ...) views.


def _latency_terms(batch: TaskBatch) -> tuple[np.ndarray, np.ndarray]:
    # Always finite: TaskBatch holds every field in the float32 observation's range, so
    # cycles / Hz < 3.4e47 / 1.2e-29 and bytes * s/byte < 3.4e44 * 1.7e32 stay below 1e77 s.
    run = batch.cycles.T[:, None, :] / place_hz(batch)  # (n, 3, N); cycles / inf == 0: free cloud
    return run, DEVICE_EDGE_CLOUD.per_byte_seconds(bandwidths(batch))  # (3, 3, N)


def _energy_terms(batch: TaskBatch, objective: Objective) -> tuple[np.ndarray, np.ndarray]:
    run = np.zeros((batch.n_subtasks, N_PLACES, batch.n_tasks))
    run[:, DEVICE] = checked_device_joules(
        objective, batch.cycles, batch.device_hz, batch.edge_bandwidth, batch.data.sum(axis=1)
    ).T
    per_byte = DEVICE_EDGE_CLOUD.per_byte_joules(
        bandwidths(batch), objective.tx_power, objective.rx_power
    )
    return run, per_byte


def _stage_costs_batch_last(
    batch: TaskBatch, objective: Objective
) -> tuple[np.ndarray, np.ndarray]:
    require_batch(batch)
    if objective.name == "latency":
        return _latency_terms(batch)
    if objective.name == "energy":
        return _energy_terms(batch, objective)
    w = objective.latency_weight
    run_l, byte_l = _latency_terms(batch)
    run_e, byte_e = _energy_terms(batch, objective)
    return w * run_l + (1 - w) * run_e, w * byte_l + (1 - w) * byte_e


def stage_costs(
    batch: TaskBatch, objective: str | Objective = "latency"
) -> tuple[np.ndarray, np.ndarray]:
    """The two building blocks of every decision's cost.

    Returns:
        ``run`` (N, n, 3): cost of executing subtask t at each place, and
        ``per_byte`` (N, 3, 3): cost of moving one byte from place a to place b.
        Moving ``data[t]`` from the place of subtask t - 1 to that of subtask t
        costs ``data[t] * per_byte[a, b]``, with the device before the first and
        after the last subtask. Units: seconds for latency, joules for energy.
    """
    run, per_byte = _stage_costs_batch_last(batch, as_objective(objective))
    return np.moveaxis(run, -1, 0), np.moveaxis(per_byte, -1, 0)


def check_decisions(batch: TaskBatch, decisions: Any) -> np.ndarray:
    """``decisions`` as an int array of shape (N, n) with places in {0, 1, 2}, or ValueError."""
    require_batch(batch)
    return DEVICE_EDGE_CLOUD.check_places(decisions, (batch.n_tasks, batch.n_subtasks))


class LinkCosts:
    """The chain's links of a batch, one subtask at a time, batch-last.

    ``links(t)`` is a (3, 3, N) array: ``[prev, p, i]`` is the cost of putting
    subtask t of task i at place ``p`` when subtask t - 1 sits at ``prev`` (the
    device for t = 0): the transfer of ``data[t]`` from ``prev`` to ``p`` plus
    the execution of subtask t at ``p``; for the last subtask it also includes
    the return of the output ``data[n]`` to the device. A decision's cost is the
    sum of its n links. One subtask at a time keeps the solvers' working set
    in the CPU cache.

    With ``slots`` (a fluctuating channel's realisation, :class:`Slots`), the
    transfer of ``data[k]`` uses slot k's bandwidths and is repeated
    ``attempts[k]`` times; without, every transfer uses the task's bandwidths.
    """

    def __init__(
        self,
        batch: TaskBatch,
        objective: str | Objective = "latency",
        slots: Slots | None = None,
    ) -> None:
        objective = as_objective(objective)
        self.run, per_byte = _stage_costs_batch_last(batch, objective)
        self.data = np.ascontiguousarray(batch.data.T)  # (n + 1, N)
        self.n_subtasks = batch.n_subtasks
        self.slots = slots
        if slots is None:  # the paper's fixed channel: one per-byte table for every transfer
            self.per_byte = [per_byte] * (self.n_subtasks + 1)
            return
        slots.check_against(batch)
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, with its cause
            per_slot = per_byte_costs(objective, slots.edge_bandwidths.T, slots.cloud_bandwidths.T)
            self.per_byte = list(np.moveaxis(per_slot, 2, 0))  # n + 1 of (3, 3, N)
            # A failed attempt is repeated in full: slot k moves attempts[k] times its bytes.
            self.data = self.data * slots.attempts.T
            worst = self.data * per_slot.max(axis=(0, 1))
        require_finite(
            worst,
            lambda at: (
                f"slot {at[0]} of task {at[1]} costs more than a float64 holds: "
                f"{batch.data[at[1], at[0]]!r} bytes, {slots.attempts[at[1], at[0]]} attempts "
                f"at edge_bandwidth={slots.edge_bandwidths[at[1], at[0]]!r}, "
                f"cloud_bandwidth={slots.cloud_bandwidths[at[1], at[0]]!r} bytes/s"
            ),
        )
        # A decision pays one run per subtask and every slot's transfer: their sum, with room
        # for rounding, must hold in a float64 too (each slot alone can, and the sum not).
        with np.errstate(over="ignore"):
            total = (worst.sum(axis=0) + self.run.max(axis=1).sum(axis=0)) * 2
        require_finite(
            total,
            lambda at: (
                f"task {at[0]}'s cost over its slots can exceed what a float64 holds: "
                f"{objective.name} over {batch.n_subtasks + 1} transfers of "
                f"{batch.data[at[0]].tolist()} bytes at edge bandwidths "
                f"{slots.edge_bandwidths[at[0]].tolist()} bytes/s "
                f"(attempts {slots.attempts[at[0]].tolist()}); lower the powers or the data"
            ),
        )

    def __call__(self, t: int, then: np.ndarray | None = None) -> np.ndarray:
        """Subtask t's links, plus ``then[p, i]`` (a cost after p, e.g. the DP's cost to go) if given."""
        at_place = self.run[t]  # (3, N): what depends on p alone, added once per prev below
        if t == self.n_subtasks - 1:
            # The output returns from p to the device.
            at_place = at_place + self.data[t + 1] * self.per_byte[t + 1][:, DEVICE]
        if then is not None:
            at_place = at_place + then
        link = self.data[t] * self.per_byte[t]
        link += at_place
        return link


def stage_costs_one(
    task: TaskBatch, objective: str | Objective = "latency"
) -> tuple[list[list[float]], list[list[float]], list[float]]:
    """:func:`stage_costs` of a batch of one task, in plain Python floats.

    Returns ``run[t][p]``, ``per_byte[a][b]`` and the task's ``data`` (n + 1
    bytes). For deciding one task at a time, where numpy's per-call overhead
    on tiny arrays costs more than the arithmetic: the same operations in the
    same order as the batch path, so the values are bit-identical (tested).
    """
    if len(require_batch(task, "task")) != 1:
        raise ValueError(f"a single-task path takes a batch of one task; got {len(task)}")
    objective = as_objective(objective)
    cycles, data = task.cycles[0].tolist(), task.data[0].tolist()
    device_hz, edge_hz, b1, b2, cloud_hz = (
        float(getattr(task, name)[0]) for name in PLATFORM_FIELDS
    )

    def latency_terms() -> tuple[list[list[float]], list[list[float]]]:
        run = [[c / device_hz, c / edge_hz, c / cloud_hz] for c in cycles]
        return run, DEVICE_EDGE_CLOUD.per_byte_one([b1, b2])

    def energy_terms() -> tuple[list[list[float]], list[list[float]]]:
        run = [[device_joules(objective, c, device_hz), 0.0, 0.0] for c in cycles]
        power = (objective.tx_power, objective.rx_power)
        return run, DEVICE_EDGE_CLOUD.per_byte_one([b1, b2], power)

    if objective.name == "latency":
        run, per_byte = latency_terms()
    elif objective.name == "energy":
        run, per_byte = energy_terms()
    else:
        w = objective.latency_weight
        (run_l, byte_l), (run_e, byte_e) = latency_terms(), energy_terms()
        run = [
            [w * a + (1 - w) * b for a, b in zip(la, ea, strict=True)]
            for la, ea in zip(run_l, run_e, strict=True)
        ]
        per_byte = [
            [w * a + (1 - w) * b for a, b in zip(la, ea, strict=True)]
            for la, ea in zip(byte_l, byte_e, strict=True)
        ]
    return run, per_byte, data


def links_one(task: TaskBatch, objective: str | Objective = "latency") -> list[list[list[float]]]:
    """:func:`step_costs` of a batch of one task in plain Python floats: ``links[t][prev][p]``.

    Bit-identical to the batch path (see :func:`stage_costs_one`).
    """
    run, per_byte, data = stage_costs_one(task, objective)
    n = len(run)
    links = []
    for t in range(n):
        at_place = run[t]
        if t == n - 1:  # the output returns from p to the device
            at_place = [at_place[p] + data[n] * per_byte[p][DEVICE] for p in range(N_PLACES)]
        links.append(
            [[data[t] * row[p] + at_place[p] for p in range(N_PLACES)] for row in per_byte]
        )
    return links


def step_costs(
    batch: TaskBatch, objective: str | Objective = "latency", slots: Slots | None = None
) -> np.ndarray:
    """Every link of :class:`LinkCosts` at once, shape (N, n, 3, 3): ``steps[i, t, prev, p]``.

    The result is a view of a batch-last array: ``np.moveaxis(steps, 0, -1)``
    is contiguous. ``slots``: a fluctuating channel's realisation, as in :class:`LinkCosts`.
    """
    links = LinkCosts(batch, objective, slots)
    steps = np.empty((batch.n_subtasks, N_PLACES, N_PLACES, batch.n_tasks))
    for t in range(batch.n_subtasks):
        steps[t] = links(t)
    return np.moveaxis(steps, -1, 0)


def previous_places(decisions: np.ndarray) -> np.ndarray:
    """Where each subtask's input comes from, (..., n) like ``decisions``: the place of
    subtask t - 1, and the device (0) before subtask 0, which holds the task's input."""
    previous = np.zeros_like(decisions)
    previous[..., 1:] = decisions[..., :-1]
    return previous


def path_cost(steps: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """Sum of the links of ``steps`` (N, n, 3, 3) that ``decisions`` (N, n) takes, shape (N,)."""
    n_tasks, n = decisions.shape
    previous = previous_places(decisions)
    rows = np.arange(n_tasks)[:, None]
    return steps[rows, np.arange(n), previous, decisions].sum(axis=1)


def cost(
    batch: TaskBatch,
    decisions: Any,
    objective: str | Objective = "latency",
    slots: Slots | None = None,
) -> np.ndarray:
    """Cost of each task's decision, shape (N,): seconds, joules or their weighted sum.

    ``slots``: the realised channel (:class:`Slots`) when it fluctuates; the task's
    own bandwidths for every transfer when None (the paper's model).
    """
    return path_cost(step_costs(batch, objective, slots), check_decisions(batch, decisions))


def latency(batch: TaskBatch, decisions: Any, slots: Slots | None = None) -> np.ndarray:
    """End-to-end latency in seconds of each task's decision, shape (N,)."""
    return cost(batch, decisions, "latency", slots)


def energy(
    batch: TaskBatch,
    decisions: Any,
    *,
    kappa: float = KAPPA,
    tx_power: float = TX_POWER,
    rx_power: float = RX_POWER,
) -> np.ndarray:
    """Energy in joules the device spends on each task's decision, shape (N,)."""
    objective = Objective("energy", kappa=kappa, tx_power=tx_power, rx_power=rx_power)
    return cost(batch, decisions, objective)


def sample_tasks(
    scenario: Scenario, n_tasks: int, n_subtasks: int = 6, *, rng: np.random.Generator
) -> TaskBatch:
    """``n_tasks`` chain requirements of ``scenario`` drawn only from ``rng``: every value
    independently and uniformly from its range (bandwidths from
    :meth:`~gym_mecoffload.core.scenario.Scenario.bandwidth_range`)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    n_tasks, n_subtasks = (
        check_count("n_tasks", n_tasks, 0),
        check_count("n_subtasks", n_subtasks, 1),
    )
    return TaskBatch(
        cycles=rng.uniform(*scenario.cycles, size=(n_tasks, n_subtasks)),
        data=rng.uniform(*scenario.data, size=(n_tasks, n_subtasks + 1)),
        device_hz=rng.uniform(*scenario.device_hz, size=n_tasks),
        edge_hz=rng.uniform(*scenario.edge_hz, size=n_tasks),
        edge_bandwidth=rng.uniform(*scenario.bandwidth_range("edge_bandwidth"), size=n_tasks),
        cloud_bandwidth=rng.uniform(*scenario.bandwidth_range("cloud_bandwidth"), size=n_tasks),
        cloud_hz=scenario.cloud_hz,
    )


def sample_states(
    n: int,
    *,
    scenario: str | Scenario = "paper",
    n_subtasks: int = 6,
    rng: np.random.Generator,
) -> TaskBatch:
    """``n`` offloading requirements of ``scenario``, drawn only from ``rng``."""
    return sample_tasks(as_scenario(scenario), n, n_subtasks, rng=rng)
