"""The README's code runs as written (the baselines block trains for minutes: its parts are tested elsewhere)."""

import re
from pathlib import Path

import pytest

README = (Path(__file__).parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
QUICK_BLOCKS = [block for block in BLOCKS if "baselines" not in block]


def test_readme_has_runnable_examples():
    assert len(QUICK_BLOCKS) >= 2


@pytest.mark.parametrize("block", QUICK_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_readme_block_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks may write files
    exec(compile(block, "README.md", "exec"), {})
