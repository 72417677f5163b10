"""Hand-made tasks for the environment tests (numpy only), importable by any test module.

They live here rather than in conftest.py: two conftest modules (tests/env and
tests/baselines) cannot both be imported by that name in one pytest run.
"""

from gym_mecoffload.chain.model import TaskBatch

MB = 1e6

# Scenario ranges of the paper's Sec. 5.1, in SI units, for tests that build a Scenario.
PAPER_RANGES = dict(
    cycles=(0.0, 2e9),
    data=(0.0, 1e7),
    device_hz=(1e8, 1e9),
    edge_hz=(5e8, 5e9),
    edge_bandwidth=(0.0, 2e6),
    cloud_bandwidth=(0.0, 3e6),
)


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
