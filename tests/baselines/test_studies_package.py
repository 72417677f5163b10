"""baselines.studies: the old module paths still run and import, importing a study sets
nothing global, and no library module imports a study."""

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent
STUDIES = ("reproduce", "channels", "dag", "reward_modes", "multi")
FORWARDERS = (*STUDIES, "sweeps", "plots")  # modules of baselines/ that forward to a study's

# Run in a fresh interpreter: this one has long since imported numpy and matplotlib.
IMPORT_THE_STUDIES = """
import os, matplotlib
before = os.environ.get("OMP_NUM_THREADS"), matplotlib.get_backend()
import baselines.studies.plots, baselines.studies.reproduce
import baselines.studies.channels, baselines.studies.dag, baselines.studies.reward_modes
import baselines.reproduce, baselines.channels, baselines.dag, baselines.reward_modes
after = os.environ.get("OMP_NUM_THREADS"), matplotlib.get_backend()
assert after == before, f"importing the studies changed {before} into {after}"
print(before)
"""


def _python(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )


def test_importing_the_studies_sets_no_thread_count_and_no_matplotlib_backend():
    # Not Agg, and no thread count: a study that set either at import would show.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["MPLBACKEND"] = "svg"
    done = _python("-c", IMPORT_THE_STUDIES, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "(None, 'svg')"


@pytest.mark.parametrize("module", ["baselines.reproduce", "baselines.studies.reproduce"])
def test_python_m_runs_the_study_at_its_old_and_new_path(module):
    done = _python("-m", module, "--help")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "--quick" in done.stdout and "--executor" in done.stdout


@pytest.mark.parametrize("name", STUDIES)
def test_the_old_path_forwards_every_public_name(name):
    study = importlib.import_module(f"baselines.studies.{name}")
    forwarder = importlib.import_module(f"baselines.{name}")
    public = {key for key in vars(study) if not key.startswith("_")}
    assert public <= set(vars(forwarder))
    assert forwarder.main is study.main and forwarder.run is study.run


def test_no_library_module_imports_a_study():
    library = [path for path in (ROOT / "baselines").glob("*.py") if path.stem not in FORWARDERS]
    assert {path.stem for path in library} >= {"dil", "kd", "evaluation", "policies"}
    for path in library:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(n.startswith("baselines.studies") for n in names), path.name


@pytest.mark.parametrize("name", ["sweeps", "plots"])
def test_the_study_helpers_import_from_their_old_paths(name):
    old = importlib.import_module(f"baselines.{name}")
    assert old is importlib.import_module(f"baselines.studies.{name}")
