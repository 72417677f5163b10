"""examples/rllib_multi.py at tiny sizes, in RLlib's venv (make test-ray)."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray.rllib", reason="RLlib lives in .venv-ray (make test-ray)")
pytest.importorskip("pettingzoo", reason="the multi-user PettingZoo env needs PettingZoo")

pytestmark = pytest.mark.rllib
SCRIPT = Path(__file__).parent.parent.parent / "examples" / "rllib_multi.py"
NUMBER = r"(-?\d+(?:\.\d+)?|-?inf|nan)"


def test_shared_policy_trains_with_two_env_runners(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--iterations", "2", "--batch", "200"]
        + ["--env-runners", "2", "--users", "3", "--servers", "2", "--horizon", "10"]
        + ["--test-episodes", "5"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    iterations = re.findall(rf"^iteration (\d+): mean return {NUMBER}", done.stdout, re.M)
    assert [int(i) for i, _ in iterations] == [1, 2], done.stdout
    # Rewards are minus each task's cost: no return is positive.
    for _, value in iterations:
        assert math.isfinite(float(value)) and float(value) <= 0, done.stdout
    found = re.search(
        rf"^PPO cost per task {NUMBER} \(local {NUMBER}, random {NUMBER}, myopic {NUMBER}\)",
        done.stdout,
        re.M,
    )
    assert found, done.stdout
    costs = [float(found[i]) for i in range(1, 5)]
    assert all(math.isfinite(cost) and cost >= 0 for cost in costs), done.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--iterations", "0"], "--iterations must be >= 1"),
        (["--env-runners", "0"], "--env-runners must be >= 1"),
        (["--users", "0"], "--users must be >= 1"),
        (["--test-episodes", "-1"], "--test-episodes must be >= 1"),
        # The scenario's own checks, before Ray starts.
        (["--servers", "5000"], "servers must be an integer in [1, 1000]"),
    ],
)
def test_bad_arguments_are_refused(arguments, message):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_the_study_mode_trains_each_seed_for_sb3s_budget_on_the_studys_test_episodes(
    tmp_path,
):
    import json
    from dataclasses import asdict, replace

    from baselines.studies import multi as study

    sizes = replace(study.QUICK, seeds=2, sb3_timesteps=600, test_episodes=3)
    (tmp_path / "results.json").write_text(
        json.dumps({"sizes": asdict(sizes), "results": {"load 0.8": {}}})
    )
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--study", str(tmp_path), "--env-runners", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    entry = json.loads((tmp_path / "rllib.json").read_text())["results"]["load 0.8"]
    users = study.settings(sizes.horizon)[1].scenario.users
    assert len(entry["runs"]) == 2
    # At least SB3's user-decisions (600) in slots of U users each.
    assert all(steps >= 600 / users for steps in entry["env_steps"])
    for run in entry["runs"]:
        assert len(run["cost"]) == 3 and all(math.isfinite(c) and c > 0 for c in run["cost"])
    assert "iteration 1" in done.stdout


def test_the_study_mode_refuses_a_folder_without_a_study(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--study", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "no results.json" in done.stderr
