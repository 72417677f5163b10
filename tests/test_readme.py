"""The README's and the docs' code runs as written; the training block also at small
sizes in the default run."""

import re
import textwrap
from pathlib import Path

import pytest

from gym_mecoffload import ENV_IDS

ROOT = Path(__file__).parent.parent
# The docs' pages as written (the env pages are generated from docstrings at build time).
PAGES = [ROOT / "README.md"] + sorted(
    path
    for path in (ROOT / "docs").rglob("*.md")
    if not {"_build", "envs"} & set(path.relative_to(ROOT / "docs").parts)
)
# Blocks inside list items are indented: dedent them as a reader would.
BLOCKS = [
    textwrap.dedent(block)
    for page in PAGES
    for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
]
# The training block imports this project's baselines (not stable_baselines3).
TRAINING_BLOCKS = [block for block in BLOCKS if re.search(r"^from baselines\b", block, re.M)]
QUICK_BLOCKS = [block for block in BLOCKS if block not in TRAINING_BLOCKS]
# The training block at small sizes: each replacement must apply, so that an
# edit of the README cannot silently make the quick test train at full size.
SMALLER = {
    "generate_dataset(100_000,": "generate_dataset(3_000,",
    "generate_dataset(10_000,": "generate_dataset(500,",
    "generate_dataset(1_000,": "generate_dataset(300,",
    "train_dil(train, rng=rng)": "train_dil(train, epochs=2, rng=rng)",
    'augment="recombine", rng=rng)': 'augment="recombine", epochs=5, rng=rng)',
    'train_dqn("sequential", rng=rng)': 'train_dqn("sequential", timesteps=500, rng=rng)',
}


def run_block(block: str, folder: Path, monkeypatch) -> None:
    monkeypatch.chdir(folder)  # blocks may write files
    exec(compile(block, "a page's block", "exec"), {})


def test_readme_has_runnable_examples():
    assert len(QUICK_BLOCKS) >= 2 and len(TRAINING_BLOCKS) == 1


@pytest.mark.parametrize("block", QUICK_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_readme_block_runs(block, tmp_path, monkeypatch):
    run_block(block, tmp_path, monkeypatch)


def test_readme_training_block_runs_at_small_sizes(tmp_path, monkeypatch):
    block = TRAINING_BLOCKS[0]
    for full, small in SMALLER.items():
        assert block.count(full) == 1, f"the training block no longer has {full!r}"
        block = block.replace(full, small)
    run_block(block, tmp_path, monkeypatch)
    assert (tmp_path / "kd_dil.pt").is_file()


@pytest.mark.slow
def test_readme_training_block_runs_as_written(tmp_path, monkeypatch):
    run_block(TRAINING_BLOCKS[0], tmp_path, monkeypatch)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_somewhere(page):
    # On GitHub the pages are read as files: every relative link must name one.
    targets = re.findall(r"\]\(((?!https?:|#|mailto:)[^)#\s]+)", page.read_text())
    # docs/envs/ is written by `make docs`: its index and a page per registered id.
    envs = ROOT.resolve() / "docs" / "envs"
    generated = {envs / "index.md"} | {envs / f"{env_id}.md" for env_id in ENV_IDS}
    missing = [
        t
        for t in targets
        if not (page.parent / t).exists() and (page.parent / t).resolve() not in generated
    ]
    assert not missing


def test_test_files_have_unique_names():
    # pytest imports test files by their basename (rootdir-relative "prepend" mode): two
    # folders with the same test file name fail at collection, in CI only if the local
    # run happened to collect one of them alone.
    names = [path.name for path in Path(__file__).parent.rglob("test_*.py")]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
