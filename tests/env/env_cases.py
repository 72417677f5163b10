"""Hand-made tasks for the environment tests (numpy only), importable by any test module.

They live here rather than in conftest.py: two conftest modules (tests/env and
tests/baselines) cannot both be imported by that name in one pytest run.
"""

import numpy as np

from gym_mecoffload.model import TaskBatch

MB = 1e6


def one_task(**overrides) -> TaskBatch:
    """A one-subtask task with round numbers, easy to cost by hand."""
    state = {
        "cycles": [1e9],  # 1 Gcycle
        "data": [2 * MB, 4 * MB],  # 2 MB in, 4 MB out
        "device_hz": 1e9,  # 1 s on the device
        "edge_hz": 2e9,  # 0.5 s on the edge
        "edge_bandwidth": 1 * MB,  # 1 s per MB device <-> edge
        "cloud_bandwidth": 0.5 * MB,  # 2 s per MB edge <-> cloud
    }
    state.update(overrides)
    return TaskBatch.from_state(state)


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
