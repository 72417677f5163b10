"""Value checks every family shares: real numbers, counts, indices, places, and the range
a float32 observation holds.

Each check either returns the value in a canonical type or raises an error that names
the argument, the bad value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np

REAL_TYPES = (int, float, np.integer, np.floating)
# Engineering units of observations: 1 Gcycle, 1 MB, 1 GHz, 1 MB/s.
GIGA = 1e9
MEGA = 1e6
# The float32 observation holds a positive value between these (normal numbers).
F32_TINY = float(np.finfo(np.float32).tiny)
F32_MAX = float(np.finfo(np.float32).max)


def first_bad(array: np.ndarray, bad: np.ndarray) -> str:
    """The first value of ``array`` where ``bad`` holds, with its index, for an error message."""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = index[0] if len(index) == 1 else index
    return f"{array[index].item()!r} at index {where}"


# Each field's engineering unit in the observation: (divisor, its name, the SI unit).
OBSERVED_UNITS = {
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


def require_finite(array: np.ndarray, message: Callable[[tuple[int, ...]], str]) -> None:
    """A ValueError saying ``message(index)`` at the first entry of ``array`` that is not
    finite (an overflow refused with its cause), else nothing."""
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(message(tuple(int(v) for v in np.argwhere(bad)[0])))


def real_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number (not a bool, string, None or complex)."""
    if isinstance(value, bool) or not isinstance(value, REAL_TYPES):
        raise TypeError(
            f"{name} must be a real number; got {value!r} of type {type(value).__name__}"
        )
    return float(value)


def holds_bool(value: Any) -> bool:
    """Whether ``value``, a list or tuple (nested or not), holds a bool anywhere: numpy reads
    ``[True, 4e6]`` as ``[1.0, 4e6]`` and ``[True, 0, 1]`` as integers, which a check of
    the array's dtype then cannot see."""
    if isinstance(value, (list, tuple)):
        return any(holds_bool(v) for v in value)
    return isinstance(value, (bool, np.bool_)) or (
        isinstance(value, np.ndarray) and value.dtype == bool
    )


def real_array(name: str, value: Any, unit: str) -> np.ndarray:
    """``value`` as a float64 array if it holds only real numbers, else a TypeError naming ``name``."""
    if value is None:
        raise TypeError(f"{name} is missing: expected real numbers ({unit}); got None")
    if isinstance(value, (list, tuple)) and holds_bool(value):
        raise TypeError(f"{name} must hold real numbers ({unit}); got a bool in {value!r:.200}")
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nesting
        raise ValueError(
            f"{name} must be a rectangular array of numbers ({unit}): its rows have different "
            f"lengths; got {value!r:.200}"
        ) from None
    if array.dtype == object and all(
        isinstance(v, REAL_TYPES) and not isinstance(v, bool) for v in array.ravel().tolist()
    ):
        try:
            array = array.astype(np.float64)  # e.g. Python ints beyond int64
        except OverflowError:
            raise ValueError(
                f"{name} holds a number beyond a float64 (about 1.8e308; {unit}); "
                f"got {value!r:.200}"
            ) from None
    if array.dtype.kind not in "iuf":
        kind = {"b": "bools", "U": "strings", "S": "bytes", "c": "complex numbers"}.get(
            array.dtype.kind, f"{array.dtype} values"
        )
        raise TypeError(f"{name} must hold real numbers ({unit}); got {kind}: {value!r:.200}")
    return array.astype(np.float64)


def _representable_range(name: str) -> str:
    divisor, observed, unit = OBSERVED_UNITS[name]
    return (
        f"{F32_TINY * divisor:.3g} to {F32_MAX * divisor:.3g} {unit} "
        f"({F32_TINY:.3g} to {F32_MAX:.3g} {observed} in the float32 observation)"
    )


def check_representable(name: str, array: np.ndarray, label: str | None = None) -> None:
    """Every value must survive the float32 observation: finite there, and a positive value
    must not become 0. This also keeps every latency term finite (cycles / Hz and
    bytes / (bytes/s) of such values stay below about 1e77 s)."""
    divisor = OBSERVED_UNITS[name][0]
    scaled = array / divisor
    positive = array > 0
    infinite_ok = name == "cloud_hz"  # an infinitely fast cloud is the paper's model
    bad = positive & ((scaled < F32_TINY) | ((scaled > F32_MAX) & ~(infinite_ok & np.isinf(array))))
    if bad.any():
        zero = " 0 or" if name in ("cycles", "data") else ""
        raise ValueError(
            f"{label or name} must be{zero} in the representable range "
            f"{_representable_range(name)}; got {first_bad(array, bad)}"
        )


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


def check_switch(name: str, value: Any) -> bool:
    """``value`` as a bool if it is one (Python's or numpy's), else a TypeError naming
    ``name``: a truthy string such as ``"no"`` must not switch a model on."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False); got {value!r}")
    return bool(value)


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


Batch = TypeVar("Batch", bound="FieldBatch")


class FieldBatch:
    """What the batch classes share: validated, read-only fields named in ``FIELDS``, each
    with a leading task axis."""

    FIELDS: ClassVar[tuple[str, ...]]

    @property
    def n_tasks(self) -> int:
        """Number of tasks N in the batch."""
        return len(getattr(self, self.FIELDS[0]))

    def __len__(self) -> int:
        return self.n_tasks

    def __getitem__(self: Batch, index: Any) -> Batch:
        """The tasks selected by ``index`` (an int, slice, mask or index array), as a batch."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        # A selection of valid tasks is valid: skip the checks, which cost more than the copy.
        subset = object.__new__(type(self))
        for name in self.FIELDS:
            array = getattr(self, name)[index]
            array.setflags(write=False)  # fancy indexing copies: frozen like the original
            object.__setattr__(subset, name, array)
        return subset

    @classmethod
    def concatenate(cls: type[Batch], batches: list[Batch]) -> Batch:
        """One batch holding the tasks of ``batches`` in order (validated again)."""
        if not batches:
            raise ValueError(f"concatenate needs at least one {cls.__name__}")
        return cls(
            **{name: np.concatenate([getattr(b, name) for b in batches]) for name in cls.FIELDS}
        )
