"""`python -m baselines.studies.reproduce --quick` end to end, and the delay measurement."""

import json
import subprocess
import sys

import numpy as np
import pytest

from baselines.evaluation import measure_delay
from baselines.policies import SolverPolicy
from gym_mecoffload import generate_dataset

FIGURE_NAMES = {"mean_ratio", "ratio_of_means", "label_accuracy", "exact_match", "params"}
DELAY_NAMES = {"online_us", "online_ratio", "batched_us", "batched_ratio", "params"}


def test_reproduce_quick_end_to_end(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "baselines.studies.reproduce",
            "--quick",
            "--no-progress",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["fig5"]) == {
        "optimal",
        "exhaustive",
        "greedy",
        "local",
        "edge",
        "cloud",
        "random",
        "dqn",
        "dqn_joint",
        "dil",
        "dil_seq",
    }
    assert {"kd_dil", "kd_dil_no_augment", "baseline_dil", "dqn", "dqn_joint", "greedy"} <= set(
        results["fig6"]
    )
    assert {"kd_dil", "dil", "dqn_joint", "greedy", "optimal", "exhaustive"} <= set(
        results["table1"]
    )
    for figures in [*results["fig5"].values(), *results["fig6"].values()]:
        assert FIGURE_NAMES <= set(figures)
    for figures in results["table1"].values():
        assert DELAY_NAMES <= set(figures)
    assert results["fig5"]["optimal"]["mean_ratio"] == 1.0
    assert results["table1"]["greedy"]["online_ratio"] == 1.0
    assert results["fig6"]["kd_dil"]["seeds"] == 2 and "mean_ratio_std" in results["fig6"]["kd_dil"]
    markdown = (tmp_path / "results.md").read_text()
    assert "## Fig. 5" in markdown and "## Fig. 6" in markdown and "## Table 1" in markdown
    for plot in ("fig5.png", "fig6.png", "table1.png"):
        assert (tmp_path / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "models" / "dil.pt").is_file()


def test_measure_delay_reports_ratios_to_greedy():
    test = generate_dataset(50, rng=np.random.default_rng(0))
    timed = {name: SolverPolicy(name) for name in ("greedy", "optimal", "exhaustive")}
    delays = measure_delay(timed, test, online_tasks=20, repeats=1, progress=False)
    assert delays["greedy"]["online_ratio"] == 1.0
    for figures in delays.values():
        assert figures["online_us"] > 0 and figures["batched_us"] > 0
        assert figures["online_p90_us"] >= figures["online_us"]
        # Solvers are also timed through their single-task path, online only.
        assert figures["online_single_us"] > 0 and "batched_single_us" not in figures
        assert figures["online_single_ratio"] == pytest.approx(
            figures["online_single_us"] / delays["greedy"]["online_us"]
        )
    with pytest.raises(ValueError, match="the reference policy 'greedy' must be among those timed"):
        measure_delay({"optimal": timed["optimal"]}, test, progress=False)
