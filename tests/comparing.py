"""Exact comparison of env outputs, for any test module (tests/ is on pytest's pythonpath)."""

import numpy as np


def assert_same(first, second):
    """Equal outputs, exactly: tuples and dicts item by item, object arrays element by
    element, other arrays and numbers by value and dtype."""
    if isinstance(second, dict):
        assert sorted(first) == sorted(second)
        for key in second:
            assert_same(first[key], second[key])
    elif isinstance(second, (tuple, list)) or (
        isinstance(second, np.ndarray) and second.dtype == object
    ):
        assert len(first) == len(second)
        for a, b in zip(first, second, strict=True):
            assert_same(a, b)
    else:
        assert np.array_equal(np.asarray(first), np.asarray(second))
        assert np.asarray(first).dtype == np.asarray(second).dtype
