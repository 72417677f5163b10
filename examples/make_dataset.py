"""Generate demonstrations of the optimal expert and save them as .npz."""

import sys
import tempfile
from pathlib import Path

import numpy as np

from gym_mecoffload import OffloadDataset, generate_dataset

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp()) / "paper-train.npz"

dataset = generate_dataset(n, scenario="paper", rng=np.random.default_rng(0))
dataset.save(out)
loaded = OffloadDataset.load(out)
print(
    f"{len(loaded)} samples, features {loaded.features.shape}, decisions {loaded.decisions.shape} -> {out}"
)
print(
    "share of subtasks the optimum puts on device/edge/cloud:",
    np.bincount(loaded.decisions.ravel(), minlength=3) / loaded.decisions.size,
)
