"""The DAG MILP is exact at every scale of seconds and joules (against exhaustive search
and brute force over completions), and says so only when it is."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.dag import DagBatch, cost, solvers
from gym_mecoffload.dag.graphs import generate_dags

OBJECTIVES = ["latency", "energy", Objective("weighted", 0.3)]


def scaled(dags: DagBatch, cycles: float, data: float) -> DagBatch:
    return dataclasses.replace(
        dags,
        cycles=dags.cycles * cycles,
        edge_data=dags.edge_data * data,
        input_data=dags.input_data * data,
        output_data=dags.output_data * data,
    )


@pytest.mark.parametrize("objective", OBJECTIVES, ids=["latency", "energy", "weighted"])
@pytest.mark.parametrize("scale", [1e-12, 1e-9, 1e-6, 1.0, 1e6, 1e9, 1e12])
def test_the_milp_is_exact_at_every_scale(scale, objective):
    # At 1e-9 and 1e8 the unscaled program was off by up to 208x on these tasks.
    base = generate_dags(12, n_subtasks=6, rng=np.random.default_rng(1))
    for dags in (scaled(base, scale, scale), scaled(base, scale, scale * 1e-4)):
        found = solvers.solve_milp(dags, objective)
        brute = cost(dags, solvers.exhaustive(dags, objective), objective)
        assert found.exact.all()
        assert np.all(found.values <= brute * (1 + solvers.MILP_GAP))
        assert np.allclose(found.values, cost(dags, found.decisions, objective), rtol=1e-12)
        assert np.all(found.lower_bound <= brute * (1 + 1e-12))
        assert np.all(found.lower_bound >= found.values * (1 - solvers.MILP_GAP))


@pytest.mark.parametrize("cycles", [1e25, 3e47])
def test_the_milp_solves_the_largest_tasks_a_dag_holds(cycles):
    # Cycles of 1e25 made HiGHS end in "Model error"; 3e47 is the representable maximum.
    base = generate_dags(3, n_subtasks=5, rng=np.random.default_rng(0))
    dags = dataclasses.replace(base, cycles=np.full_like(base.cycles, cycles))
    found = solvers.solve_milp(dags)
    assert found.exact.all()
    assert np.allclose(found.values, cost(dags, solvers.exhaustive(dags)), rtol=1e-9)


def test_a_subtask_far_dearer_than_the_rest_is_clipped_not_lost():
    # One transfer 1e30 times the rest: beyond what HiGHS takes as a coefficient.
    dags = generate_dags(4, n_subtasks=6, rng=np.random.default_rng(5))
    edge_data = dags.edge_data.copy()
    u, v = (int(x) for x in np.argwhere(dags.edges[0])[0])
    edge_data[0, u, v] *= 1e30
    dags = dataclasses.replace(dags, edge_data=edge_data)
    found = solvers.solve_milp(dags)
    assert found.exact.all()
    assert np.allclose(found.values, cost(dags, solvers.exhaustive(dags)), rtol=1e-9)
    assert found.decisions[0, u] == found.decisions[0, v]  # never split across that edge


@pytest.mark.parametrize("scale", [1e-12, 1.0, 1e12])
def test_the_expert_in_any_state_is_exact_at_every_scale(scale):
    dags = scaled(generate_dags(5, n_subtasks=5, rng=np.random.default_rng(4)), scale, scale)
    rng = np.random.default_rng(9)
    places = np.where(rng.random((5, 5)) < 0.5, rng.integers(0, 3, (5, 5)), -1)
    current = rng.integers(0, 5, 5)
    places[np.arange(5), current] = -1
    answer = solvers.milp_next_place(dags, places, current)
    for i in range(5):
        free = np.flatnonzero(places[i] < 0)
        best, best_with_answer = np.inf, np.inf
        for completion in itertools.product(range(3), repeat=len(free)):
            trial = places[i].copy()
            trial[free] = completion
            value = float(cost(dags[i], trial[None])[0])
            best = min(best, value)
            if trial[current[i]] == answer[i]:
                best_with_answer = min(best_with_answer, value)
        assert best_with_answer <= best * (1 + solvers.MILP_GAP)


@pytest.mark.parametrize("stream, index", [((20002, 201), 15), ((20002, 213), 7)])
def test_a_bound_blurred_by_highs_tolerances_is_proved_on_a_tighter_scale(stream, index):
    # Two of the DAG study's 24,000 training DAGs: in units of the serial upper bound
    # (about 7x the optimum here) HiGHS's bound fell 1.0e-6 and 1.7e-6 short of its own
    # optimal placement's cost; solved again in units of that placement's cost, it holds.
    from gym_mecoffload.dag.graphs import DagGenerator

    task = DagGenerator(n_subtasks=20).generate(16, np.random.default_rng(list(stream)))[index]
    found = solvers.solve_milp(task)
    assert found.exact.all()
    assert found.values[0] == cost(task, found.decisions)[0]
    assert found.values[0] - found.lower_bound[0] <= solvers.MILP_GAP * found.values[0]
    # HEFT and the uniform placements cost no less than the proved bound.
    others = [solvers.heft(task), solvers.local(task), solvers.edge(task), solvers.cloud(task)]
    assert all(cost(task, other)[0] >= found.lower_bound[0] for other in others)
