"""Every script in examples/ runs to the end (as imitation's test_examples does)."""

import subprocess
import sys
from pathlib import Path

import pytest

# The RLlib examples need RLlib's own venv: tests/ray/test_rllib_example.py and
# test_rllib_multi_example.py run them (make test-ray).
EXAMPLES = sorted(
    path
    for path in (Path(__file__).parent.parent / "examples").glob("*.py")
    if path.name not in ("rllib_ppo.py", "rllib_multi.py")
)
# Smaller workloads where a script takes them as arguments.
ARGUMENTS = {"make_dataset.py": ["2000"]}


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    arguments = ARGUMENTS.get(script.name, [])
    if script.name == "make_dataset.py":
        arguments = [*arguments, str(tmp_path / "demo.npz")]
    done = subprocess.run(
        [sys.executable, str(script), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "an example should show what it did"
