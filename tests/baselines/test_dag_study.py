"""The DAG study: quick here (tables, plot, sanity of every figure); the targets slow."""

import json

import numpy as np
import pytest

from baselines.evaluation import pin_threads
from baselines.studies import dag as study
from gym_mecoffload.dag import cost
from gym_mecoffload.dag.data import generate_dag_dataset
from gym_mecoffload.dag.episodes import DagSettings, rollout
from gym_mecoffload.executors import SEQUENTIAL


def test_the_quick_study_writes_its_tables_and_plot(tmp_path):
    results = study.run(tmp_path, sizes=study.QUICK, progress=False)
    assert list(results) == [
        f"n={n}, {kind}" for n in study.SIZES for kind in ("no contention", "contention")
    ]
    for label, row in results.items():
        assert row["expert"]["mean_ratio"] == 1.0
        # Without contention the expert is the exact optimum: nothing beats it.
        if "no contention" in label:
            assert all(f["mean_ratio"] >= 1.0 - 1e-9 for f in row.values())
        # The no-contention optimum bounds every makespan from below.
        assert all(f["over_lower_bound"] >= 1.0 - 1e-9 for f in row.values())
        learned = label.startswith("n=20")
        assert all((name in row) == learned for name in study.LEARNED)
        assert row["expert"]["online_ms"] > 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["results"]["n=10, contention"]["heft"] == results["n=10, contention"]["heft"]
    assert "| n=20, no contention |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "dag.png").stat().st_size > 10_000


def test_demonstrations_replay_the_experts_placements():
    data = generate_dag_dataset(8, n_subtasks=6, seed=2, executor=SEQUENTIAL, progress=False)
    settings = DagSettings.for_model(6)
    decisions, observations, actions = rollout(
        data.dags, study._expert_path(data), settings, record=True
    )
    assert np.array_equal(decisions, data.decisions)
    assert observations.shape == (48, 6**2 + 10 * 6 + 20)
    assert np.allclose(cost(data.dags, decisions), data.costs)
    assert actions.shape == (48,)


@pytest.mark.slow
def test_the_dag_targets_at_n_20():
    """The issue's targets, at full sizes: DIL within 5% of the optimum without contention
    and better than HEFT with it; the student within 10% and 100x faster than the MILP."""
    pin_threads()  # as the study runs: one torch thread, the same numbers
    free = study.run_setting(20, False, study.Sizes(), learn=True, progress=False)
    assert free["dil_seq"]["mean_ratio"] <= 1.05
    assert free["kd_student"]["mean_ratio"] <= 1.10
    assert free["kd_student"]["speedup_vs_milp"] >= 100
    busy = study.run_setting(20, True, study.Sizes(), learn=True, progress=False)
    assert busy["dil_seq"]["mean_ratio"] < busy["heft"]["mean_ratio"]
