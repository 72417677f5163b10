"""Exact comparison of env outputs: observations by dtype, shape and bytes, numbers by
value, infos key by key, with an AssertionError that says where they first differ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def assert_same(
    first: Any, second: Any, where: str = "value", *, strict_types: bool = True
) -> None:
    """Assert that two outputs are equal, exactly, and say where they differ if not.

    Mappings must have the same keys and lists and tuples the same length, compared item
    by item; numpy arrays must have the same dtype, shape and values (NaN equal to NaN;
    object arrays item by item). Scalars must be equal and, with ``strict_types``, of the
    same type (a Python ``float`` differs from an ``np.float64``); without it they
    compare as numpy values (dtype included), as a vector env's batched infos hold them.

    Args:
        first: One output.
        second: The other.
        where: What is compared, for the message (e.g. ``"step 3: info['cost']"``).
        strict_types: Whether scalars must have the same Python type.

    Raises:
        AssertionError: Naming ``where`` (with the key or index) and both values.
    """
    if isinstance(first, Mapping) or isinstance(second, Mapping):
        if not (isinstance(first, Mapping) and isinstance(second, Mapping)):
            raise AssertionError(f"{where}: a mapping against a {_kind(first, second)}")
        keys, other = set(first), set(second)
        if keys != other:
            raise AssertionError(
                f"{where}: keys differ: only in the first {_sorted(keys - other)}, "
                f"only in the second {_sorted(other - keys)}"
            )
        for key in first:
            assert_same(first[key], second[key], f"{where}[{key!r}]", strict_types=strict_types)
    elif isinstance(first, (list, tuple)) or isinstance(second, (list, tuple)):
        if type(first) is not type(second) or len(first) != len(second):
            raise AssertionError(f"{where}: {_describe(first)} != {_describe(second)}")
        for k, (a, b) in enumerate(zip(first, second, strict=True)):
            assert_same(a, b, f"{where}[{k}]", strict_types=strict_types)
    elif isinstance(first, np.ndarray) or isinstance(second, np.ndarray):
        if strict_types and not (isinstance(first, np.ndarray) and isinstance(second, np.ndarray)):
            raise AssertionError(f"{where}: {_describe(first)} != {_describe(second)}")
        _assert_same_array(np.asarray(first), np.asarray(second), where, strict_types)
    elif not strict_types and _is_number(first) and _is_number(second):
        _assert_same_array(np.asarray(first), np.asarray(second), where, strict_types)
    else:
        if type(first) is not type(second):
            raise AssertionError(
                f"{where}: types differ: {type(first).__name__} {first!r} != "
                f"{type(second).__name__} {second!r}"
            )
        if not _equal_scalars(first, second):
            raise AssertionError(f"{where}: {first!r} != {second!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, complex, np.generic))


def _assert_same_array(first: np.ndarray, second: np.ndarray, where: str, strict: bool) -> None:
    if first.dtype != second.dtype or first.shape != second.shape:
        raise AssertionError(
            f"{where}: {first.dtype}{list(first.shape)} != {second.dtype}{list(second.shape)}"
        )
    if first.dtype == object:
        for index in np.ndindex(first.shape):
            assert_same(first[index], second[index], f"{where}{list(index)}", strict_types=strict)
        return
    nan = np.issubdtype(first.dtype, np.inexact)
    if not np.array_equal(first, second, equal_nan=nan):
        _raise_first_difference(first, second, where)


def assert_same_observation(
    first: Any, second: Any, where: str, *, strict_types: bool = True
) -> None:
    """Observations: containers as :func:`assert_same`, arrays by dtype, shape and bytes."""
    if isinstance(first, np.ndarray) and isinstance(second, np.ndarray) and first.dtype != object:
        if first.dtype != second.dtype or first.shape != second.shape:
            raise AssertionError(
                f"{where}: {first.dtype}{list(first.shape)} != {second.dtype}{list(second.shape)}"
            )
        # Bytes, not values: -0.0 and 0.0 are one value but two outputs.
        if first.tobytes() != second.tobytes():
            _raise_first_difference(first, second, where, bytewise=True)
    elif isinstance(first, Mapping) and isinstance(second, Mapping) and set(first) == set(second):
        for key in first:
            assert_same_observation(
                first[key], second[key], f"{where}[{key!r}]", strict_types=strict_types
            )
    elif isinstance(first, tuple) and isinstance(second, tuple) and len(first) == len(second):
        for k, (a, b) in enumerate(zip(first, second, strict=True)):
            assert_same_observation(a, b, f"{where}[{k}]", strict_types=strict_types)
    else:
        assert_same(first, second, where, strict_types=strict_types)


def _raise_first_difference(
    first: np.ndarray, second: np.ndarray, where: str, bytewise: bool = False
) -> None:
    a, b = first.reshape(-1), second.reshape(-1)  # contiguous copies where needed
    if bytewise:
        differs = (
            a.view(np.uint8).reshape(a.size, -1) != b.view(np.uint8).reshape(b.size, -1)
        ).any(axis=1)
    else:
        differs = a != b
        if np.issubdtype(a.dtype, np.inexact):
            differs &= ~(np.isnan(a) & np.isnan(b))
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(differs)), first.shape))
    count = int(np.count_nonzero(differs))
    raise AssertionError(
        f"{where}: {count} of {first.size} entries differ, the first at {list(index)}: "
        f"{first[index].item()!r} != {second[index].item()!r}"
    )


def _equal_scalars(first: Any, second: Any) -> bool:
    try:
        if bool(first == second):
            return True
    except (TypeError, ValueError):  # no truth value (e.g. an object that compares oddly)
        return first is second
    return _is_nan(first) and _is_nan(second)


def _is_nan(value: Any) -> bool:
    return isinstance(value, (float, complex, np.inexact)) and bool(np.isnan(value))


def _describe(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"ndarray {value.dtype}{list(value.shape)}"
    return f"{type(value).__name__} {value!r}"


def _kind(first: Any, second: Any) -> str:
    return type(second if isinstance(first, Mapping) else first).__name__


def _sorted(keys: set[Any]) -> list[Any]:
    return sorted(keys, key=repr)
