"""Speed of the environments and solvers, as ratios measured in one run.

    python benchmarks/bench_env.py

Prints: env steps per second through gym.make with random actions against
CartPole-v1 in the same process; tasks per second labelled by `optimal` and
its speed-up over `exhaustive` at n = 6; `optimal`'s time for n = 6 .. 48; and
the time to generate a 100K-sample paper dataset. Each figure is the best of
several interleaved repeats, so a busy machine slows every contender alike.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, before numpy loads

import time  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import gym_mecoffload  # noqa: E402, F401
from gym_mecoffload import generate_dataset, solvers  # noqa: E402
from gym_mecoffload.chain.model import sample_states

REPEATS = 5


def steps_per_second(env_id: str, steps: int = 30_000, **kwargs: object) -> float:
    """Steps per second of ``gym.make(env_id, **kwargs)`` with random actions."""
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    env.action_space.seed(0)
    started = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - started)


def best_time(function, *args) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    env_ids = ["CartPole-v1", "MecOffload-v0", "MecOffloadOneShot-v0"]
    rates = {env_id: 0.0 for env_id in env_ids}
    for _ in range(REPEATS):  # interleaved, so load changes hit all alike
        for env_id in env_ids:
            rates[env_id] = max(rates[env_id], steps_per_second(env_id))
    print("env steps per second (gym.make, random actions, best of 5):")
    for env_id, rate in rates.items():
        print(f"  {env_id:22s} {rate:10,.0f}  ({rate / rates['CartPole-v1']:.2f}x CartPole-v1)")

    rng = np.random.default_rng(0)
    batch = sample_states(100_000, rng=rng)
    dp = best_time(solvers.optimal, batch)
    print(f"\noptimal (DP), n = 6: {len(batch) / dp:,.0f} tasks/s ({dp * 1e3:.1f} ms for 100K)")
    search = best_time(solvers.exhaustive, batch)
    print(
        f"exhaustive,   n = 6: {len(batch) / search:,.0f} tasks/s -> DP is {search / dp:.0f}x faster"
    )

    print("\noptimal (DP) time per task against n (linear growth expected):")
    for n in (6, 12, 24, 48):
        states = sample_states(20_000, n_subtasks=n, rng=rng)
        per_task = best_time(solvers.optimal, states) / len(states)
        print(
            f"  n = {n:2d}: {per_task * 1e6:6.2f} us/task ({per_task * 1e6 / n:.3f} us per subtask)"
        )

    generate = best_time(lambda: generate_dataset(100_000, rng=np.random.default_rng(1)))
    print(f"\ngenerate_dataset(100_000) on the paper scenario: {generate:.3f} s")


if __name__ == "__main__":
    main()
