"""Solvers: the DP against exhaustive search, and every policy against the optimum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gym_mecoffload import solvers
from gym_mecoffload.chain.model import (
    TaskBatch,
    cost,
    latency,
    links_one,
    sample_states,
    stage_costs,
    stage_costs_one,
    step_costs,
)
from gym_mecoffload.core.objective import Objective

OBJECTIVES = [Objective("latency"), Objective("energy"), Objective("weighted", latency_weight=0.3)]


@st.composite
def task_batches(draw, max_subtasks=8):
    n = draw(st.integers(1, max_subtasks))
    size = draw(st.integers(1, 4))

    def column(shape, low, high):
        # 0 or a value the float32 observation represents (smaller ones are refused).
        values = st.floats(max(low, 1e-3), high, allow_nan=False, allow_infinity=False)
        if low == 0:
            values = st.one_of(st.just(0.0), values)
        return draw(arrays(np.float64, shape, elements=values))

    return TaskBatch(
        cycles=column((size, n), 0, 2e9),  # zeros included: ties must not break the DP
        data=column((size, n + 1), 0, 1e7),
        device_hz=column(size, 1e8, 1e9),
        edge_hz=column(size, 5e8, 5e9),
        edge_bandwidth=column(size, 1e4, 2e6),
        cloud_bandwidth=column(size, 1e4, 3e6),
    )


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.name)
@settings(max_examples=60, deadline=None)
@given(batch=task_batches())
def test_dp_matches_exhaustive(batch, objective):
    by_dp = cost(batch, solvers.optimal(batch, objective), objective)
    by_search = cost(batch, solvers.exhaustive(batch, objective), objective)
    np.testing.assert_allclose(by_dp, by_search, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.name)
def test_dp_matches_exhaustive_decisions_on_random_tasks(objective):
    """Continuous random tasks have no ties: the decisions themselves agree."""
    batch = sample_states(500, n_subtasks=6, rng=np.random.default_rng(1))
    assert np.array_equal(solvers.optimal(batch, objective), solvers.exhaustive(batch, objective))


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.name)
def test_optimal_never_worse_than_any_policy(objective):
    batch = sample_states(2000, rng=np.random.default_rng(2))
    best = cost(batch, solvers.optimal(batch, objective), objective)
    policies = {name: solve(batch, objective) for name, solve in solvers.SOLVERS.items()}
    policies["random"] = solvers.random(batch, np.random.default_rng(3))
    for name, decisions in policies.items():
        assert (best <= cost(batch, decisions, objective) * (1 + 1e-12)).all(), name


def test_optimal_next_place_is_optimal_from_any_state():
    """From every (subtask, previous place), the expert's choice is the best brute-force completion."""
    n = 4
    batch = sample_states(30, n_subtasks=n, rng=np.random.default_rng(4))
    everything = solvers.all_decisions(n)
    costs = np.stack([latency(batch, np.broadcast_to(d, (30, n))) for d in everything], axis=1)
    for t in range(n):
        for previous in range(3):
            if t == 0 and previous != 0:
                continue  # the input always starts on the device
            reachable = everything[:, t - 1] == previous if t else np.ones(len(everything), bool)
            choice = solvers.optimal_next_place(batch, t, previous)
            for place in range(3):
                pick = reachable & (everything[:, t] == place)
                best_with_place = costs[:, pick].min(axis=1)
                chosen = np.where(choice == place)[0]
                others = costs[:, reachable].min(axis=1)
                np.testing.assert_allclose(best_with_place[chosen], others[chosen], rtol=1e-12)


def test_following_the_expert_from_the_device_gives_the_optimum():
    batch = sample_states(200, rng=np.random.default_rng(5))
    previous = np.zeros(200, dtype=int)
    walked = []
    for t in range(6):
        previous = solvers.optimal_next_place(batch, t, previous)
        walked.append(previous)
    assert np.array_equal(np.stack(walked, axis=1), solvers.optimal(batch))


def test_greedy_by_hand():
    """Greedy ignores the output's return: it picks the free cloud and pays 2 * 20 s to bring 10 MB back."""
    batch = TaskBatch.from_state(
        {
            "cycles": [2e9],
            "data": [0, 10e6],
            "device_hz": 1e9,
            "edge_hz": 1e9,
            "edge_bandwidth": 1e6,
            "cloud_bandwidth": 1e6,
        }
    )
    assert solvers.greedy(batch).tolist() == [[2]]
    assert solvers.optimal(batch).tolist() == [[0]]
    assert latency(batch, solvers.greedy(batch))[0] == pytest.approx(20.0)


def test_fixed_and_random_policies():
    batch = sample_states(10, rng=np.random.default_rng(6))
    assert (solvers.local(batch) == 0).all()
    assert (solvers.edge(batch) == 1).all()
    assert (solvers.cloud(batch) == 2).all()
    a = solvers.random(batch, np.random.default_rng(7))
    assert np.array_equal(a, solvers.random(batch, np.random.default_rng(7)))
    assert set(
        np.unique(
            solvers.random(
                sample_states(500, rng=np.random.default_rng(0)), np.random.default_rng(8)
            )
        )
    ) == {0, 1, 2}


def test_optimal_scales_to_long_chains():
    batch = sample_states(20, n_subtasks=48, rng=np.random.default_rng(9))
    decisions = solvers.optimal(batch)
    assert decisions.shape == (20, 48)
    assert (latency(batch, decisions) <= latency(batch, solvers.greedy(batch)) * (1 + 1e-12)).all()


def test_exhaustive_refuses_too_many_subtasks():
    batch = sample_states(1, n_subtasks=15, rng=np.random.default_rng())
    with pytest.raises(ValueError, match=r"allows 1 <= n <= 14 .*got n = 15.*solvers.optimal"):
        solvers.exhaustive(batch)


def test_optimal_next_place_rejects_bad_state():
    batch = sample_states(1, rng=np.random.default_rng())
    with pytest.raises(ValueError, match=r"step must hold subtask indices .*in \[0, 5\]; got 6"):
        solvers.optimal_next_place(batch, 6, 0)
    with pytest.raises(ValueError, match=r"previous_place must hold places 0, 1 or 2"):
        solvers.optimal_next_place(batch, 0, 3)
    for step in (1.0, True, "1", [0, 1]):  # a float used to leak numpy's IndexError
        with pytest.raises(ValueError, match=r"step must be an integer or a \(1,\) integer array"):
            solvers.optimal_next_place(batch, step, 0)


@pytest.mark.parametrize(
    "objective", ["latency", "energy", Objective("weighted", latency_weight=0.3)]
)
@pytest.mark.parametrize("n_subtasks", [1, 2, 6, 8])
def test_single_task_paths_equal_the_batch_solvers(objective, n_subtasks):
    tasks = sample_states(200, n_subtasks=n_subtasks, rng=np.random.default_rng(n_subtasks))
    for name, single in solvers.SINGLE_TASK_SOLVERS.items():
        batch = solvers.SOLVERS[name](tasks, objective)
        one_by_one = np.stack([single(tasks[i], objective) for i in range(len(tasks))])
        assert one_by_one.dtype == batch.dtype
        assert np.array_equal(one_by_one, batch), name


@pytest.mark.parametrize(
    "objective", ["latency", "energy", Objective("weighted", latency_weight=0.7)]
)
def test_single_task_costs_are_bit_identical_to_the_batch_model(objective):
    tasks = sample_states(50, n_subtasks=5, rng=np.random.default_rng(0))
    run, per_byte = stage_costs(tasks, objective)
    steps = step_costs(tasks, objective)
    for i in range(len(tasks)):
        one_run, one_per_byte, data = stage_costs_one(tasks[i], objective)
        assert np.array_equal(np.array(one_run), run[i])
        assert np.array_equal(np.array(one_per_byte), per_byte[i])
        assert data == tasks.data[i].tolist()
        assert np.array_equal(np.array(links_one(tasks[i], objective)), steps[i])
    with pytest.raises(ValueError, match="takes a batch of one task; got 50"):
        links_one(tasks)


def test_single_task_exhaustive_finds_a_hand_made_tie_first():
    # Zero cycles and zero data: every decision costs 0, so the first (all device) wins.
    task = TaskBatch.from_state(
        {"cycles": [0.0] * 3, "data": [0.0] * 4, "device_hz": 1e9, "edge_hz": 1e9,
         "edge_bandwidth": 1e6, "cloud_bandwidth": 1e6}
    )  # fmt: skip
    for name in ("optimal", "exhaustive", "greedy"):
        assert solvers.SINGLE_TASK_SOLVERS[name](task).tolist() == [0, 0, 0]
