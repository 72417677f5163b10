"""Generate demonstrations of the optimal expert in seeded shards and save them as .npz.

    python examples/make_dataset.py [N] [OUT.npz] [--executor local|ray] [--workers W]

The dataset is the same, bit for bit, on either executor and any number of workers;
it is written atomically once every shard is in.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from gym_mecoffload import OffloadDataset, generate_dataset
from gym_mecoffload.executors import Executor

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("n", type=int, nargs="?", default=100_000)
parser.add_argument("out", type=Path, nargs="?", default=None)
parser.add_argument("--executor", choices=["local", "ray"], default="local")
parser.add_argument("--workers", type=int, default=None)
args = parser.parse_args()
out = args.out or Path(tempfile.mkdtemp()) / "paper-train.npz"

dataset = generate_dataset(
    args.n,
    scenario="paper",
    seed=0,
    shard_size=25_000,
    executor=Executor(args.executor, args.workers),
    progress=True,
)
dataset.save(out)
loaded = OffloadDataset.load(out)
print(
    f"{len(loaded)} samples, features {loaded.features.shape}, decisions {loaded.decisions.shape} -> {out}"
)
print(
    "share of subtasks the optimum puts on device/edge/cloud:",
    np.bincount(loaded.decisions.ravel(), minlength=3) / loaded.decisions.size,
)
