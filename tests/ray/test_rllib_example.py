"""examples/rllib_ppo.py at tiny sizes, in RLlib's venv (make test-ray)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray.rllib", reason="RLlib lives in .venv-ray (make test-ray)")

pytestmark = pytest.mark.rllib
SCRIPT = Path(__file__).parent.parent.parent / "examples" / "rllib_ppo.py"


def test_ppo_trains_with_two_env_runners_on_both_envs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--iterations", "2", "--batch", "200"]
        + ["--test-tasks", "30", "--env-runners", "2"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for name in ("chain", "dag"):
        iterations = re.findall(
            rf"^{name} iteration (\d+): mean return (-?[\d.]+)", done.stdout, re.M
        )
        assert [int(i) for i, _ in iterations] == [1, 2], done.stdout
        # Relative rewards: an episode's return is minus its cost over the optimum's,
        # so no return can exceed -1 (the optimum).
        assert all(float(value) <= -1 + 1e-6 for _, value in iterations)
        found = re.search(
            rf"^{name}: PPO ([\d.]+) x the optimum .* \(random places: ([\d.]+)\)",
            done.stdout,
            re.M,
        )
        assert found, done.stdout
        assert float(found[1]) >= 1 - 1e-9 and float(found[2]) >= 1 - 1e-9


def test_bad_arguments_are_refused():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--iterations", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "--iterations must be >= 1" in done.stderr
