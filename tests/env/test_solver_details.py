"""Details a wrong solver could hide behind: asymmetric costs, ties, the largest n, inclusive bounds."""

import numpy as np
import pytest
from env_cases import PAPER_RANGES

from gym_mecoffload import solvers
from gym_mecoffload.chain.model import TaskBatch, sample_states, sample_tasks, stage_costs
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.core.topology import CLOUD, DEVICE, EDGE


def greedy_by_hand(tasks: TaskBatch, objective: Objective) -> np.ndarray:
    """SPEC section 3's Greedy in plain loops: each subtask where its run plus the transfer
    of its input from where the previous subtask ran is least (ties to the lower index)."""
    run, per_byte = stage_costs(tasks, objective)
    decisions = np.zeros((len(tasks), tasks.n_subtasks), dtype=int)
    for i in range(len(tasks)):
        previous = DEVICE
        for t in range(tasks.n_subtasks):
            costs = [run[i, t, p] + tasks.data[i, t] * per_byte[i, previous, p] for p in range(3)]
            previous = costs.index(min(costs))
            decisions[i, t] = previous
    return decisions


@pytest.mark.parametrize(
    "objective", [Objective("energy"), Objective("weighted", latency_weight=0.2)]
)
def test_greedy_follows_the_previous_place_on_asymmetric_costs(objective):
    # Energy is asymmetric: sending costs tx_power / b1, receiving rx_power / b1.
    tasks = sample_states(300, n_subtasks=5, rng=np.random.default_rng(2))
    assert np.array_equal(solvers.greedy(tasks, objective), greedy_by_hand(tasks, objective))


def test_greedy_by_hand_on_two_subtasks():
    """Energy by hand (kappa 1e-27, rx 0.1 W, b1 1 MB/s). Subtask 0: 1 Gcycle at 1 GHz costs
    1 J on the device; sending its 2 MB costs 2 * tx J. With tx = 0.5 W that ties at 1 J:
    the device wins (lower index); subtask 1 from the device then ties at 0.5 J again.
    With tx = 0.4 W the edge wins (0.8 J); subtask 1 then starts on the edge, where staying
    costs 0 J, against 0.5 J + 0.1 J to run it back on the device."""
    state = {
        "cycles": [1e9, 0.5e9],
        "data": [2e6, 1e6, 0.0],
        "device_hz": 1e9,
        "edge_hz": 2e9,
        "edge_bandwidth": 1e6,
        "cloud_bandwidth": 1e6,
    }
    task = TaskBatch.from_state(state)
    assert solvers.greedy(task, Objective("energy", kappa=1e-27, tx_power=0.5)).tolist() == [[0, 0]]
    assert solvers.greedy(task, Objective("energy", kappa=1e-27, tx_power=0.4)).tolist() == [[1, 1]]


def test_exact_solvers_break_ties_to_the_lowest_place():
    # Nothing to run, nothing to move: every decision costs 0; the first (all device) wins.
    free = TaskBatch.from_state(
        {"cycles": [0.0] * 3, "data": [0.0] * 4, "device_hz": 1e9, "edge_hz": 1e9,
         "edge_bandwidth": 1e6, "cloud_bandwidth": 1e6}
    )  # fmt: skip
    for solve in (solvers.optimal, solvers.exhaustive, solvers.greedy):
        assert solve(free).tolist() == [[DEVICE] * 3]
    # Device and edge tie exactly (same speed, free transfers are impossible, so no data):
    # the edge would do as well, the device must win.
    tie = TaskBatch.from_state(
        {"cycles": [1e9], "data": [0.0, 0.0], "device_hz": 1e9, "edge_hz": 1e9,
         "edge_bandwidth": 1e6, "cloud_bandwidth": 1e6, "cloud_hz": 1e9}
    )  # fmt: skip
    for solve in (solvers.optimal, solvers.exhaustive):
        assert solve(tie).tolist() == [[DEVICE]]
    assert EDGE > DEVICE and CLOUD > EDGE


def test_exhaustive_reaches_its_own_maximum():
    n = solvers.MAX_EXHAUSTIVE_SUBTASKS
    assert solvers.all_decisions(n).shape == (3**n, n)
    task = sample_states(1, n_subtasks=n, rng=np.random.default_rng(0))
    assert np.array_equal(solvers.exhaustive(task), solvers.optimal(task))
    with pytest.raises(ValueError, match=rf"allows 1 <= n <= {n}"):
        solvers.all_decisions(n + 1)


def test_inclusive_bounds_stay_inclusive():
    assert Objective("weighted", latency_weight=1.0).latency_weight == 1.0
    assert Objective("weighted", latency_weight=0.0).latency_weight == 0.0
    # A bandwidth range may end exactly at min_bandwidth: every draw is that bandwidth.
    scenario = Scenario(**{**PAPER_RANGES, "edge_bandwidth": (0.0, 1e4)}, min_bandwidth=1e4)
    tasks = sample_tasks(scenario, 5, 2, rng=np.random.default_rng(0))
    assert (tasks.edge_bandwidth == 1e4).all()
