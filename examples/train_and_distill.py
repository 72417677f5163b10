"""Clone the optimal expert into a DIL teacher, distil it into a small student, compare.

A small version of the paper's pipeline (the full one: `python -m baselines.studies.reproduce`).
Pass a training size to scale it up: `python examples/train_and_distill.py 100000`.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

from baselines.dil import train_dil
from baselines.evaluation import evaluate
from baselines.kd import distill
from baselines.policies import SolverPolicy, load_policy
from gym_mecoffload import generate_dataset

n_train = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
rng = np.random.default_rng(0)
train = generate_dataset(n_train, scenario="paper", rng=rng)
test = generate_dataset(2_000, scenario="paper", rng=rng)

teacher, history = train_dil(train, epochs=8, rng=rng, progress=False)
print(
    f"teacher: loss {history.epoch_loss[0]:.2f} -> {history.epoch_loss[-1]:.2f} in {history.seconds:.0f} s"
)

kd_train = generate_dataset(1_000, scenario="paper-kd", rng=rng)
student, _ = distill(
    teacher,
    (32, 32),
    kd_train.states,  # and synthetic states recombined from them, labelled by the teacher
    epochs=100,
    rng=rng,
    progress=False,
)

path = student.save(Path(tempfile.mkdtemp()) / "kd_dil.pt")
student = load_policy(path, backend="numpy")  # weights only; plain numpy forward pass
for policy in (teacher, student, SolverPolicy("greedy")):
    figures = evaluate(policy, test)
    print(
        f"{policy.name:8s} latency / optimal {figures['mean_ratio']:.3f}, {figures['params']:7d} parameters"
    )
