"""The system model: offloading requirements, their costs and how they are sampled.

Everything here is a pure, vectorised numpy function over a *batch* of tasks,
so that the environments, the solvers, the dataset generator and the benchmark
all share one definition of latency and energy (``../shared/SPEC.md`` section 1,
the paper's Sec. 3.2).

A task is a chain of ``n`` subtasks. Subtask ``t`` needs ``cycles[t]`` CPU
cycles; ``data[t]`` bytes flow into it from subtask ``t - 1`` (``data[0]`` is the
task's input, which starts on the device) and ``data[n]`` is the task's output,
which must end on the device. A *decision* places every subtask on
``DEVICE`` (0), ``EDGE`` (1) or ``CLOUD`` (2).

Units are SI throughout: cycles, bytes, Hz, bytes/s, seconds, joules, watts.
Observations (:func:`features`) use engineering units (Gcycles, MB, GHz, MB/s)
so that a network sees numbers of order one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np

DEVICE, EDGE, CLOUD = 0, 1, 2
PLACES = ("device", "edge", "cloud")
N_PLACES = len(PLACES)

OBJECTIVES = ("latency", "energy", "weighted")

# Engineering units used in observations: 1 Gcycle, 1 MB, 1 GHz, 1 MB/s.
GIGA = 1e9
MEGA = 1e6

_PER_TASK_FIELDS = ("device_hz", "edge_hz", "edge_bandwidth", "cloud_bandwidth", "cloud_hz")
PLATFORM_FIELDS = _PER_TASK_FIELDS  # the platform of every task, chain or DAG
STATE_FIELDS = (
    "cycles",
    "data",
    "device_hz",
    "edge_hz",
    "edge_bandwidth",
    "cloud_bandwidth",
    "cloud_hz",
)
SLOT_FIELDS = ("edge_bandwidths", "cloud_bandwidths", "attempts")  # Slots' fields, in order


def _first_bad(array: np.ndarray, bad: np.ndarray) -> str:
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = index[0] if len(index) == 1 else index
    return f"{array[index].item()!r} at index {where}"


_REAL_TYPES = (int, float, np.integer, np.floating)
# The float32 observation holds a positive value between these (normal numbers).
_F32_TINY = float(np.finfo(np.float32).tiny)
_F32_MAX = float(np.finfo(np.float32).max)
# Each field's engineering unit in the observation: (divisor, its name, the SI unit).
_OBSERVED_UNITS = {
    "cycles": (1e9, "Gcycles", "CPU cycles"),
    "data": (1e6, "MB", "bytes"),
    "device_hz": (1e9, "GHz", "Hz"),
    "edge_hz": (1e9, "GHz", "Hz"),
    "edge_bandwidth": (1e6, "MB/s", "bytes/s"),
    "cloud_bandwidth": (1e6, "MB/s", "bytes/s"),
    "cloud_hz": (
        1e9,
        "GHz",
        "Hz",
    ),  # not observed; held to the same range so cycles / cloud_hz stays finite
}


def real_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number (not a bool, string, None or complex)."""
    if isinstance(value, bool) or not isinstance(value, _REAL_TYPES):
        raise TypeError(
            f"{name} must be a real number; got {value!r} of type {type(value).__name__}"
        )
    return float(value)


def real_array(name: str, value: Any, unit: str) -> np.ndarray:
    """``value`` as a float64 array if it holds only real numbers, else a TypeError naming ``name``."""
    if value is None:
        raise TypeError(f"{name} is missing: expected real numbers ({unit}); got None")
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nesting
        raise ValueError(
            f"{name} must be a rectangular array of numbers ({unit}): {error}"
        ) from None
    if array.dtype == object and all(
        isinstance(v, _REAL_TYPES) and not isinstance(v, bool) for v in array.ravel().tolist()
    ):
        array = array.astype(np.float64)  # e.g. Python ints beyond int64
    if array.dtype.kind not in "iuf":
        kind = {"b": "bools", "U": "strings", "S": "bytes", "c": "complex numbers"}.get(
            array.dtype.kind, f"{array.dtype} values"
        )
        raise TypeError(f"{name} must hold real numbers ({unit}); got {kind}: {value!r:.200}")
    return array.astype(np.float64)


def _representable_range(name: str) -> str:
    divisor, observed, unit = _OBSERVED_UNITS[name]
    return (
        f"{_F32_TINY * divisor:.3g} to {_F32_MAX * divisor:.3g} {unit} "
        f"({_F32_TINY:.3g} to {_F32_MAX:.3g} {observed} in the float32 observation)"
    )


def platform_arrays(source: Any, n_tasks: int) -> dict[str, np.ndarray]:
    """The per-task platform fields of ``source`` (``device_hz``, ``edge_hz``, the two
    bandwidths and ``cloud_hz``) as validated (N,) float arrays: a scalar is repeated,
    ``cloud_hz`` None means inf. A ValueError or TypeError names a bad field."""
    values = {}
    for name in _PER_TASK_FIELDS:
        raw = getattr(source, name)
        if raw is None and name == "cloud_hz":
            raw = math.inf
        unit = "Hz" if name.endswith("_hz") else "bytes/s"
        array = real_array(name, raw, unit)
        if array.ndim == 0:
            array = np.full(n_tasks, float(array))
        if array.shape != (n_tasks,):
            raise ValueError(f"{name} must have shape (N,) = ({n_tasks},); got {array.shape}")
        infinite_ok = name == "cloud_hz"  # an infinitely fast cloud is the paper's model
        bad = ~(array > 0) if infinite_ok else ~(array > 0) | ~np.isfinite(array)
        if bad.any():
            extra = " (a zero bandwidth makes latency unbounded)" if unit == "bytes/s" else ""
            allowed = "> 0 or inf" if infinite_ok else "finite and > 0"
            raise ValueError(
                f"{name} must be {allowed} ({unit}){extra}; got {_first_bad(array, bad)}"
            )
        values[name] = array
    return values


Batch = TypeVar("Batch", bound="FieldBatch")


class FieldBatch:
    """What the batch classes share: validated fields named in ``FIELDS``, each with a
    leading task axis."""

    FIELDS: ClassVar[tuple[str, ...]]

    @classmethod
    def concatenate(cls: type[Batch], batches: list[Batch]) -> Batch:
        """One batch holding the tasks of ``batches`` in order (validated again)."""
        if not batches:
            raise ValueError(f"concatenate needs at least one {cls.__name__}")
        return cls(
            **{name: np.concatenate([getattr(b, name) for b in batches]) for name in cls.FIELDS}
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
                    f"{name} must be finite and >= 0 ({unit}); got {_first_bad(array, bad)}"
                )
        for name, array in values.items():
            _check_representable(name, array)
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def n_tasks(self) -> int:
        """Number of tasks N in the batch."""
        return self.cycles.shape[0]

    @property
    def n_subtasks(self) -> int:
        """Number of subtasks n of every task."""
        return self.cycles.shape[1]

    def __len__(self) -> int:
        return self.n_tasks

    def __getitem__(self, index: Any) -> TaskBatch:
        """The tasks selected by ``index`` (an int, slice, mask or index array), as a batch."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        # A selection of valid tasks is valid: skip the checks, which cost more than the copy.
        subset = object.__new__(TaskBatch)
        for name in STATE_FIELDS:
            array = getattr(self, name)[index]
            array.setflags(write=False)  # fancy indexing copies: frozen like the original
            object.__setattr__(subset, name, array)
        return subset

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


def _check_representable(name: str, array: np.ndarray, label: str | None = None) -> None:
    """Every value must survive the float32 observation: finite there, and a positive value
    must not become 0. This also keeps every latency term finite (cycles / Hz and
    bytes / (bytes/s) of such values stay below about 1e77 s)."""
    divisor = _OBSERVED_UNITS[name][0]
    scaled = array / divisor
    positive = array > 0
    infinite_ok = name == "cloud_hz"  # an infinitely fast cloud is the paper's model
    bad = positive & (
        (scaled < _F32_TINY) | ((scaled > _F32_MAX) & ~(infinite_ok & np.isinf(array)))
    )
    if bad.any():
        zero = " 0 or" if name in ("cycles", "data") else ""
        raise ValueError(
            f"{label or name} must be{zero} in the representable range "
            f"{_representable_range(name)}; got {_first_bad(array, bad)}"
        )


def require_batch(batch: Any, name: str = "batch") -> TaskBatch:
    """``batch`` if it is a :class:`TaskBatch`, else a TypeError saying how to make one."""
    if not isinstance(batch, TaskBatch):
        raise TypeError(
            f"{name} must be a TaskBatch (TaskBatch.from_state(...) makes one from a mapping "
            f"of the SPEC's fields); got {type(batch).__name__}"
        )
    return batch


def features(batch: TaskBatch) -> np.ndarray:
    """The paper's input vector S for each task, float32, in engineering units.

    Columns: ``cycles`` (n, Gcycles), ``data`` (n + 1, MB), ``device_hz`` (GHz),
    ``edge_hz`` (GHz), ``edge_bandwidth`` (MB/s), ``cloud_bandwidth`` (MB/s):
    ``2n + 5`` columns in all (17 for the paper's n = 6).
    """
    require_batch(batch)
    columns = [
        batch.cycles / GIGA,
        batch.data / MEGA,
        batch.device_hz[:, None] / GIGA,
        batch.edge_hz[:, None] / GIGA,
        batch.edge_bandwidth[:, None] / MEGA,
        batch.cloud_bandwidth[:, None] / MEGA,
    ]
    return np.concatenate(columns, axis=1).astype(np.float32)


def observed_bandwidths(edge_bandwidth: np.ndarray, cloud_bandwidth: np.ndarray) -> np.ndarray:
    """Bandwidths (bytes/s) as an observation holds them: (..., 2) float32 MB/s, b1 then b2,
    converted as :func:`features` converts a task's."""
    return np.stack([edge_bandwidth / MEGA, cloud_bandwidth / MEGA], axis=-1).astype(np.float32)


def slot_features(slots: Slots) -> np.ndarray:
    """Each slot's bandwidths as the observation holds them: (N, n + 1, 2) float32 MB/s."""
    return observed_bandwidths(slots.edge_bandwidths, slots.cloud_bandwidths)


def n_features(n_subtasks: int) -> int:
    """Length of :func:`features` rows for tasks of ``n_subtasks`` subtasks."""
    return 2 * n_subtasks + 5


@dataclass(frozen=True)
class Slots(FieldBatch):
    """A fluctuating channel's realisation for a batch of N tasks of n subtasks (SPEC-CHANNELS).

    Slot k < n carries ``data[k]`` into subtask k; slot n carries the output back
    to the device. Validated on construction like :class:`TaskBatch`.

    Attributes:
        edge_bandwidths: (N, n + 1) device <-> edge bandwidth of each slot, bytes/s (> 0).
        cloud_bandwidths: (N, n + 1) edge <-> cloud bandwidth of each slot, bytes/s (> 0).
        attempts: (N, n + 1) transfer attempts of each slot (integers >= 1): an
            unreliable link repeats a failed transfer in full.
    """

    edge_bandwidths: np.ndarray
    cloud_bandwidths: np.ndarray
    attempts: np.ndarray

    FIELDS = SLOT_FIELDS

    def __post_init__(self) -> None:
        edge = real_array("edge_bandwidths", self.edge_bandwidths, "bytes/s")
        if edge.ndim != 2 or edge.shape[1] < 2:
            raise ValueError(
                f"edge_bandwidths must have shape (N, n + 1) with n >= 1; got {edge.shape}"
            )
        cloud = real_array("cloud_bandwidths", self.cloud_bandwidths, "bytes/s")
        attempts = np.asarray(self.attempts)
        for name, array in (("cloud_bandwidths", cloud), ("attempts", attempts)):
            if array.shape != edge.shape:
                raise ValueError(
                    f"{name} must have the shape of edge_bandwidths, {edge.shape}; got {array.shape}"
                )
        for name, array in (("edge_bandwidths", edge), ("cloud_bandwidths", cloud)):
            bad = ~(array > 0) | ~np.isfinite(array)
            if bad.any():
                raise ValueError(
                    f"{name} must be finite and > 0 (bytes/s); got {_first_bad(array, bad)}"
                )
            _check_representable(name.removesuffix("s"), array, name)
        if attempts.dtype == bool or not np.issubdtype(attempts.dtype, np.integer):
            raise ValueError(f"attempts must be integers >= 1; got dtype {attempts.dtype}")
        if attempts.size and attempts.min() < 1:
            raise ValueError(
                f"attempts must be integers >= 1; got {_first_bad(attempts, attempts < 1)}"
            )
        for name, array in (
            ("edge_bandwidths", edge),
            ("cloud_bandwidths", cloud),
            ("attempts", attempts.astype(np.int64)),
        ):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @classmethod
    def fixed(cls, batch: TaskBatch) -> Slots:
        """The paper's channel: every slot at the task's own bandwidths, one attempt each."""
        shape = (batch.n_tasks, batch.n_subtasks + 1)
        return cls(
            np.broadcast_to(batch.edge_bandwidth[:, None], shape).copy(),
            np.broadcast_to(batch.cloud_bandwidth[:, None], shape).copy(),
            np.ones(shape, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.attempts)

    def __getitem__(self, index: Any) -> Slots:
        """A sub-batch, indexed like :class:`TaskBatch`."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Slots(
            self.edge_bandwidths[index], self.cloud_bandwidths[index], self.attempts[index]
        )

    def check_against(self, batch: TaskBatch) -> None:
        """A ValueError unless these slots fit ``batch`` (N tasks of n subtasks: (N, n + 1))."""
        expected = (batch.n_tasks, batch.n_subtasks + 1)
        if self.attempts.shape != expected:
            raise ValueError(
                f"slots must have shape (N, n + 1) = {expected} for this batch; "
                f"got {self.attempts.shape}"
            )


@dataclass(frozen=True)
class Objective:
    """What a decision costs (SPEC section 1).

    Attributes:
        name: ``"latency"`` (seconds, the paper's), ``"energy"`` (the device's
            joules) or ``"weighted"`` (``latency_weight * latency +
            (1 - latency_weight) * energy``).
        latency_weight: w in [0, 1], used by ``"weighted"`` only.
        kappa: effective switched capacitance of the device CPU: running c
            cycles at f Hz costs ``kappa * c * f**2`` joules.
        tx_power: device radio power while sending, watts.
        rx_power: device radio power while receiving, watts.
    """

    name: str = "latency"
    latency_weight: float = 0.5
    kappa: float = 1e-27
    tx_power: float = 0.5
    rx_power: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or self.name not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}; got {self.name!r}")
        for name in ("latency_weight", "kappa", "tx_power", "rx_power"):
            object.__setattr__(self, name, real_number(name, getattr(self, name)))
        if not 0.0 <= self.latency_weight <= 1.0:
            raise ValueError(f"latency_weight must be in [0, 1]; got {self.latency_weight!r}")
        for name in ("kappa", "tx_power", "rx_power"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0; got {value!r}")


def as_objective(objective: str | Objective) -> Objective:
    """An :class:`Objective` from its name or itself."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        return Objective(objective)
    raise TypeError(f"objective must be a name in {OBJECTIVES} or an Objective; got {objective!r}")


# The cost tables are built batch-last, (..., N), so that every operation is a
# contiguous vector op over the batch; the public functions return (N, ...) views.


def _latency_per_byte(edge_bandwidth: np.ndarray, cloud_bandwidth: np.ndarray) -> np.ndarray:
    """Seconds per byte between each pair of places, (3, 3, *shape) for bandwidths of any shape."""
    to_edge = 1.0 / edge_bandwidth
    to_cloud = 1.0 / cloud_bandwidth
    zero = np.zeros_like(to_edge)
    # Traffic between device and cloud passes through the edge.
    return np.array(
        [
            [zero, to_edge, to_edge + to_cloud],
            [to_edge, zero, to_cloud],
            [to_edge + to_cloud, to_cloud, zero],
        ]
    )


def _energy_per_byte(objective: Objective, edge_bandwidth: np.ndarray) -> np.ndarray:
    """The device's joules per byte between each pair of places, (3, 3, *shape)."""
    per_byte = np.zeros((N_PLACES, N_PLACES, *np.shape(edge_bandwidth)))
    # Only the device's radio costs the device energy; edge <-> cloud is free to it.
    per_byte[DEVICE, EDGE:] = objective.tx_power / edge_bandwidth
    per_byte[EDGE:, DEVICE] = objective.rx_power / edge_bandwidth
    return per_byte


def per_byte_costs(
    objective: str | Objective, edge_bandwidth: np.ndarray, cloud_bandwidth: np.ndarray
) -> np.ndarray:
    """The objective's cost of moving one byte from place a to place b, (3, 3, *shape), at
    bandwidths (bytes/s) of any common shape: seconds, joules or their weighted sum.

    Linear in ``1 / edge_bandwidth`` and ``1 / cloud_bandwidth``, whatever the objective.
    """
    objective = as_objective(objective)
    edge_bandwidth, cloud_bandwidth = np.asarray(edge_bandwidth), np.asarray(cloud_bandwidth)
    if objective.name == "latency":
        return _latency_per_byte(edge_bandwidth, cloud_bandwidth)
    energy = _energy_per_byte(objective, edge_bandwidth)
    if objective.name == "energy":
        return energy
    w = objective.latency_weight
    return w * _latency_per_byte(edge_bandwidth, cloud_bandwidth) + (1 - w) * energy


def _latency_terms(batch: TaskBatch) -> tuple[np.ndarray, np.ndarray]:
    # Always finite: TaskBatch holds every field in the float32 observation's range, so
    # cycles / Hz < 3.4e47 / 1.2e-29 and bytes * s/byte < 3.4e44 * 1.7e32 stay below 1e77 s.
    place_hz = np.stack([batch.device_hz, batch.edge_hz, batch.cloud_hz])  # (3, N)
    run = batch.cycles.T[:, None, :] / place_hz  # (n, 3, N); cycles / inf == 0: free cloud
    return run, _latency_per_byte(batch.edge_bandwidth, batch.cloud_bandwidth)  # (3, 3, N)


def _energy_terms(batch: TaskBatch, objective: Objective) -> tuple[np.ndarray, np.ndarray]:
    run = np.zeros((batch.n_subtasks, N_PLACES, batch.n_tasks))
    with np.errstate(over="ignore"):  # an overflow is refused just below, with its cause
        run[:, DEVICE] = objective.kappa * batch.cycles.T * batch.device_hz**2
        per_byte = _energy_per_byte(objective, batch.edge_bandwidth)
        _check_finite_energy(batch, objective, run, per_byte)
    return run, per_byte


def _check_finite_energy(
    batch: TaskBatch, objective: Objective, run: np.ndarray, per_byte: np.ndarray
) -> None:
    """Energy terms scale with the objective's constants, so the representable range of a
    task (which bounds every latency term) does not bound them: refuse what overflows.

    A decision's energy is at most the sum over subtasks of the dearest link, so a
    finite worst case here keeps every link, reward and total finite.
    """
    device_run = run[:, DEVICE]  # (n, N)
    if not np.isfinite(device_run).all():
        t, i = (int(v) for v in np.argwhere(~np.isfinite(device_run))[0])
        raise ValueError(
            f"the device energy kappa * cycles * device_hz**2 overflows for task {i}, subtask "
            f"{t}: kappa={objective.kappa!r} J/(cycle Hz^2), cycles={batch.cycles[i, t]!r}, "
            f"device_hz={batch.device_hz[i]!r}; lower one of them"
        )
    for name, power in (("tx_power", objective.tx_power), ("rx_power", objective.rx_power)):
        per_byte_energy = power / batch.edge_bandwidth
        if not np.isfinite(per_byte_energy).all():
            i = int(np.argmax(~np.isfinite(per_byte_energy)))
            raise ValueError(
                f"{name} / edge_bandwidth overflows for task {i}: {name}={power!r} W, "
                f"edge_bandwidth={batch.edge_bandwidth[i]!r} bytes/s; lower {name} or raise "
                "edge_bandwidth"
            )
    dearest_byte = per_byte.max(axis=(0, 1))  # (N,)
    worst = (device_run.sum(axis=0) + batch.data.sum(axis=1) * dearest_byte) * 2
    if not np.isfinite(worst).all():
        i = int(np.argmax(~np.isfinite(worst)))
        raise ValueError(
            f"task {i}'s energy can overflow a float64: its cycles and data are too large "
            f"for kappa={objective.kappa!r}, tx_power={objective.tx_power!r} and "
            f"rx_power={objective.rx_power!r}; state {batch.state(i)}"
        )


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
    return check_places(decisions, (batch.n_tasks, batch.n_subtasks))


def check_places(decisions: Any, expected: tuple[int, int]) -> np.ndarray:
    """``decisions`` as an int array of shape ``expected`` (N, n) holding places 0, 1, 2."""
    array = np.asarray(decisions)
    if array.shape != expected:
        raise ValueError(f"decisions must have shape (N, n) = {expected}; got {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"decisions must be integers (places 0, 1, 2); got dtype {array.dtype}")
    bad = (array < 0) | (array >= N_PLACES)
    if bad.any():
        raise ValueError(
            f"decisions must hold places 0 (device), 1 (edge) or 2 (cloud); got {_first_bad(array, bad)}"
        )
    return array.astype(np.intp, copy=False)


def check_count(name: str, value: Any, low: int, high: int | None = None, why: str = "") -> int:
    """``value`` as an int if it is an integer (not a bool) in [low, high] (no upper bound
    if ``high`` is None), else a ValueError naming ``name``, the range and ``why``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {bounds}{why}; got {value!r}")
    return int(value)


def holds_integers_below(array: np.ndarray, limit: int) -> bool:
    """Whether ``array`` holds integers (not bools) in [0, limit): places, joint actions."""
    return (
        array.dtype != bool
        and np.issubdtype(array.dtype, np.integer)
        and (array.size == 0 or (array.min() >= 0 and array.max() < limit))
    )


def check_indices(name: str, value: object, size: int, limit: int, what: str) -> np.ndarray:
    """``value`` (a scalar or (size,)) as (size,) integer indices in [0, limit), or a ValueError
    naming ``name`` and saying ``what`` is allowed. Bools and floats are refused."""
    array = np.asarray(value)
    if (
        array.dtype == bool
        or not np.issubdtype(array.dtype, np.integer)
        or array.ndim > 1
        or (array.ndim == 1 and len(array) != size)
    ):
        raise ValueError(
            f"{name} must be an integer or a ({size},) integer array of {what}; got {value!r}"
        )
    array = np.broadcast_to(array, (size,))
    if size and (array.min() < 0 or array.max() >= limit):
        raise ValueError(f"{name} must hold {what}, in [0, {limit - 1}]; got {value!r}")
    return array


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
        if not np.isfinite(worst).all():
            k, i = (int(v) for v in np.argwhere(~np.isfinite(worst))[0])
            raise ValueError(
                f"slot {k} of task {i} costs more than a float64 holds: "
                f"{batch.data[i, k]!r} bytes, {slots.attempts[i, k]} attempts at "
                f"edge_bandwidth={slots.edge_bandwidths[i, k]!r}, "
                f"cloud_bandwidth={slots.cloud_bandwidths[i, k]!r} bytes/s"
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
        float(getattr(task, name)[0]) for name in _PER_TASK_FIELDS
    )

    def latency_terms() -> tuple[list[list[float]], list[list[float]]]:
        run = [[c / device_hz, c / edge_hz, c / cloud_hz] for c in cycles]
        to_edge, to_cloud = 1.0 / b1, 1.0 / b2
        through = to_edge + to_cloud
        return run, [[0.0, to_edge, through], [to_edge, 0.0, to_cloud], [through, to_cloud, 0.0]]

    def energy_terms() -> tuple[list[list[float]], list[list[float]]]:
        square = device_hz**2
        run = [[objective.kappa * c * square, 0.0, 0.0] for c in cycles]
        tx, rx = objective.tx_power / b1, objective.rx_power / b1
        return run, [[0.0, tx, tx], [rx, 0.0, 0.0], [rx, 0.0, 0.0]]

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


def path_cost(steps: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """Sum of the links of ``steps`` (N, n, 3, 3) that ``decisions`` (N, n) takes, shape (N,)."""
    n_tasks, n = decisions.shape
    previous = np.zeros_like(decisions)  # the input starts on the device
    previous[:, 1:] = decisions[:, :-1]
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
    kappa: float = 1e-27,
    tx_power: float = 0.5,
    rx_power: float = 0.1,
) -> np.ndarray:
    """Energy in joules the device spends on each task's decision, shape (N,)."""
    objective = Objective("energy", kappa=kappa, tx_power=tx_power, rx_power=rx_power)
    return cost(batch, decisions, objective)


Range = tuple[float, float]


@dataclass(frozen=True)
class Scenario:
    """Uniform ranges from which offloading requirements are sampled (SI units).

    Every value is drawn independently and uniformly from its ``(low, high)``
    range. The paper's bandwidth ranges start at 0, which makes latency
    unbounded; bandwidths are therefore drawn from ``[max(low, min_bandwidth),
    high]`` (a narrower range, not a clip: no mass piles up at the floor).

    Attributes:
        cycles: CPU cycles per subtask.
        data: bytes of each data flow (input, intermediates, output).
        device_hz: end device CPU frequency p1, Hz.
        edge_hz: edge server CPU frequency p2, Hz.
        edge_bandwidth: device <-> edge bandwidth b1, bytes/s.
        cloud_bandwidth: edge <-> cloud bandwidth b2, bytes/s.
        min_bandwidth: floor of both bandwidth ranges, bytes/s (default 0.01 MB/s).
        cloud_hz: cloud CPU frequency, Hz (default ``inf``: free cloud execution).
        name: a label for reports.
    """

    cycles: Range
    data: Range
    device_hz: Range
    edge_hz: Range
    edge_bandwidth: Range
    cloud_bandwidth: Range
    min_bandwidth: float = 0.01 * MEGA
    cloud_hz: float = math.inf
    name: str = "custom"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string; got {self.name!r}")
        for name in ("min_bandwidth", "cloud_hz"):
            object.__setattr__(self, name, real_number(name, getattr(self, name)))
        if not (math.isfinite(self.min_bandwidth) and self.min_bandwidth > 0):
            raise ValueError(
                f"min_bandwidth must be finite and > 0 bytes/s; got {self.min_bandwidth!r}"
            )
        if not self.cloud_hz > 0:
            raise ValueError(f"cloud_hz must be > 0 Hz or inf; got {self.cloud_hz!r}")
        _check_representable("cloud_hz", np.array([self.cloud_hz]))
        for name in ("cycles", "data", "device_hz", "edge_hz", "edge_bandwidth", "cloud_bandwidth"):
            bounds = getattr(self, name)
            # A string is a sequence too: "12" would read as (1.0, 2.0).
            if isinstance(bounds, (str, bytes)) or not isinstance(
                bounds, (tuple, list, np.ndarray)
            ):
                raise TypeError(f"{name} must be a (low, high) pair of numbers; got {bounds!r}")
            if len(bounds) != 2:
                raise ValueError(
                    f"{name} must be a (low, high) pair of numbers; got {len(bounds)} values"
                )
            low, high = (real_number(f"{name} bound", v) for v in bounds)
            if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
                raise ValueError(
                    f"{name} must satisfy 0 <= low <= high, both finite; got {bounds!r}"
                )
            if name.endswith("_hz") and low <= 0:
                raise ValueError(f"{name} must have low > 0 Hz; got {bounds!r}")
            _check_representable(name, np.array([low, high]), f"{name} bounds")
            if name.endswith("bandwidth") and high < self.min_bandwidth:
                raise ValueError(
                    f"{name} high bound {high!r} bytes/s is below min_bandwidth {self.min_bandwidth!r}"
                )
            object.__setattr__(self, name, (low, high))

    @classmethod
    def preset(cls, name: str) -> Scenario:
        """A named preset: ``"paper"`` (Sec. 5.1) or ``"paper-kd"`` (Sec. 5.2)."""
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; presets are {sorted(SCENARIOS)}")
        return SCENARIOS[name]

    def _bandwidth_range(self, name: str) -> Range:
        low, high = getattr(self, name)
        return max(low, self.min_bandwidth), high

    def sample(self, n_tasks: int, n_subtasks: int = 6, *, rng: np.random.Generator) -> TaskBatch:
        """``n_tasks`` requirements drawn only from ``rng``."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
        n_tasks, n_subtasks = (
            check_count("n_tasks", n_tasks, 0),
            check_count("n_subtasks", n_subtasks, 1),
        )
        return TaskBatch(
            cycles=rng.uniform(*self.cycles, size=(n_tasks, n_subtasks)),
            data=rng.uniform(*self.data, size=(n_tasks, n_subtasks + 1)),
            device_hz=rng.uniform(*self.device_hz, size=n_tasks),
            edge_hz=rng.uniform(*self.edge_hz, size=n_tasks),
            edge_bandwidth=rng.uniform(*self._bandwidth_range("edge_bandwidth"), size=n_tasks),
            cloud_bandwidth=rng.uniform(*self._bandwidth_range("cloud_bandwidth"), size=n_tasks),
            cloud_hz=self.cloud_hz,
        )


def as_scenario(scenario: str | Scenario) -> Scenario:
    """A :class:`Scenario` from a preset name or itself."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str):
        return Scenario.preset(scenario)
    raise TypeError(
        f"scenario must be a preset name {sorted(SCENARIOS)} or a Scenario; got {scenario!r}"
    )


def sample_states(
    n: int,
    *,
    scenario: str | Scenario = "paper",
    n_subtasks: int = 6,
    rng: np.random.Generator,
) -> TaskBatch:
    """``n`` offloading requirements of ``scenario``, drawn only from ``rng``."""
    return as_scenario(scenario).sample(n, n_subtasks, rng=rng)


_PAPER = dict(
    cycles=(0.0, 2000e6),
    data=(0.0, 10 * MEGA),
    device_hz=(100e6, 1000e6),
    edge_hz=(500e6, 5000e6),
    edge_bandwidth=(0.0, 2 * MEGA),
    cloud_bandwidth=(0.0, 3 * MEGA),
)

SCENARIOS: dict[str, Scenario] = {
    # Sec. 5.1 of the paper.
    "paper": Scenario(**_PAPER, name="paper"),
    # Sec. 5.2: narrower cycles and data, the rest as Sec. 5.1.
    "paper-kd": Scenario(
        **{**_PAPER, "cycles": (500e6, 1500e6), "data": (3 * MEGA, 8 * MEGA)}, name="paper-kd"
    ),
}
