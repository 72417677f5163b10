"""Vector env speed and single-task decision delay, as ratios measured in one run.

    python benchmarks/bench_vector.py          (needs gymnasium 1.x: `make benchmark-vector`)

Part 1: steps per second of the native `MecOffloadVectorEnv` (random actions,
every autoreset included: fresh tasks and their exact optimum by DP) at 1, 64,
1024 and 4096 sub-envs, against Gymnasium's own numpy-vectorised
`CartPoleVectorEnv` and against `SyncVectorEnv` over `MecOffload-v0` at the
same N. Every contender is timed in turn, several rounds, best round kept, so
a busy machine slows them alike.

Part 2: one task at a time, the median delay of each solver's `decide_one`
through the batch path and through its plain-Python single-task path, beside
a numpy forward pass of the paper's 2 x 32 KD-DIL student and 5 x 256 DIL
(untrained weights: the arithmetic does not depend on their values).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, before numpy loads

import time  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import gym_mecoffload  # noqa: E402
from gym_mecoffload import solvers  # noqa: E402

SIZES = (1, 64, 1024, 4096)
ROUNDS = 3
SECONDS = 0.6  # per contender per round, about


def vector_rate(make, num_envs: int) -> float:
    """Env steps per second (sub-env steps summed) of ``make(num_envs)`` with random actions."""
    env = make(num_envs)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    space = env.action_space
    high = space.nvec if hasattr(space, "nvec") else space.n
    actions = [rng.integers(0, high, size=space.shape) for _ in range(16)]
    env.step(actions[0])  # warm-up
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < SECONDS:
        for action in actions:
            env.step(action)
        steps += len(actions)
    rate = steps * num_envs / (time.perf_counter() - started)
    env.close()
    return rate


CONTENDERS = {
    "MecOffloadVectorEnv": lambda n: gym.make_vec(
        "MecOffload-v0", num_envs=n, vectorization_mode="vector_entry_point"
    ),
    "CartPoleVectorEnv": lambda n: gym.make_vec(
        "CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point"
    ),
    "SyncVectorEnv(MecOffload-v0)": lambda n: gym.make_vec(
        "MecOffload-v0", num_envs=n, vectorization_mode="sync"
    ),
}


def single_task_delays(n_tasks: int = 2000) -> dict[str, float]:
    tasks = gym_mecoffload.sample_states(n_tasks, rng=np.random.default_rng(0))
    singles = [tasks[i] for i in range(n_tasks)]
    contenders = {}
    for name in ("optimal", "greedy", "exhaustive"):
        contenders[f"{name}, batch path"] = solvers.SOLVERS[name]
        contenders[f"{name}, single-task path"] = solvers.SINGLE_TASK_SOLVERS[name]
    rng = np.random.default_rng(1)
    for label, hidden, n_out in (("KD-DIL 2 x 32", (32, 32), 18), ("DIL 5 x 256", (256,) * 5, 18)):
        sizes = (17, *hidden, n_out)
        layers = [
            (rng.normal(size=(a, b)).astype(np.float32), np.zeros(b, dtype=np.float32))
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        ]

        def forward(task, layers=layers):
            x = gym_mecoffload.features(task)
            for i, (weight, bias) in enumerate(layers):
                x = x @ weight + bias
                if i < len(layers) - 1:
                    x = np.maximum(x, 0.0)
            return x.reshape(6, 3).argmax(axis=1)

        contenders[f"{label}, numpy forward"] = forward
    medians = {name: [] for name in contenders}
    for _ in range(ROUNDS):
        for name, decide in contenders.items():
            times = np.empty(len(singles))
            for i, task in enumerate(singles):
                started = time.perf_counter_ns()
                decide(task)
                times[i] = time.perf_counter_ns() - started
            medians[name].append(np.median(times) / 1e3)
    return {name: min(values) for name, values in medians.items()}


def main() -> None:
    if int(gym.__version__.split(".")[0]) < 1:
        raise SystemExit(
            "needs gymnasium 1.x (CartPoleVectorEnv, gym.make_vec): make benchmark-vector"
        )
    print(f"gymnasium {gym.__version__}, numpy {np.__version__}, best of {ROUNDS} rounds\n")
    print("vector env steps per second (random actions, autoresets included):")
    print(
        f"{'num_envs':>8}"
        + "".join(f"{name:>30}" for name in CONTENDERS)
        + f"{'vs CartPole':>13}{'vs Sync':>9}"
    )
    for num_envs in SIZES:
        rates = {name: 0.0 for name in CONTENDERS}
        for _ in range(ROUNDS):
            for name, make in CONTENDERS.items():
                rates[name] = max(rates[name], vector_rate(make, num_envs))
        ours = rates["MecOffloadVectorEnv"]
        print(
            f"{num_envs:>8}"
            + "".join(f"{rate:>30,.0f}" for rate in rates.values())
            + f"{ours / rates['CartPoleVectorEnv']:>12.2f}x"
            + f"{ours / rates['SyncVectorEnv(MecOffload-v0)']:>8.2f}x"
        )
    print("\none task at a time, median delay per decision (us):")
    delays = single_task_delays()
    reference = delays["greedy, batch path"]
    for name, delay in delays.items():
        print(f"  {name:<32}{delay:8.1f} us  ({delay / reference:.2f}x Greedy's batch path)")


if __name__ == "__main__":
    main()
