"""Speed of the DAG family, as ratios measured in one run (issue: the DAG family fast
enough to train on).

    python benchmarks/bench_dag_env.py [--quick]

Prints:
* env steps per second through gym.make with random actions, against CartPole-v1 in
  the same process: ``MecOffloadDag-v0`` at n = 10, 20, 30 drawing fresh DAGs (no
  labelling), and at n = 20 on a labelled ``task_pool`` (a ``DagDataset``);
* ``MecOffloadDagVectorEnv`` steps per second at 64 and 1024 envs, n = 20, and the
  share of its time spent generating DAGs at each autoreset;
* the online time per task at n = 20 of the sequential policies (a 3 x 256 MLP as
  ``dil_seq`` and a 2 x 256 one as ``dqn``; untrained weights decide as fast as trained
  ones), of HEFT and of the MILP, one task at a time on one core, and whether the
  single-task path decides exactly as the batched path does.

Each figure is the best of several interleaved repeats, so a busy machine slows every
contender alike. Needs the ``baselines`` extra (torch) for the policies.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, before numpy loads

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from bench_env import steps_per_second  # noqa: E402 - this folder's timer

import gym_mecoffload  # noqa: E402, F401
from baselines.evaluation import online_times_us  # noqa: E402
from gym_mecoffload.dag import solvers  # noqa: E402
from gym_mecoffload.dag.data import generate_dag_dataset  # noqa: E402
from gym_mecoffload.dag.envs import MecOffloadDagVectorEnv  # noqa: E402
from gym_mecoffload.dag.episodes import DagEpisodes, DagSettings, rollout  # noqa: E402
from gym_mecoffload.dag.graphs import generate_dags  # noqa: E402
from gym_mecoffload.dag.observations import DagLayout  # noqa: E402


def vector_rate(n_envs: int, steps: int) -> tuple[float, float]:
    """Steps per second of the native vector env, and the share of time generating DAGs."""
    env = MecOffloadDagVectorEnv(n_envs, n_subtasks=20)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = [rng.integers(0, 3, n_envs) for _ in range(steps)]
    started = time.perf_counter()
    for action in actions:
        env.step(action)
    total = time.perf_counter() - started
    episodes = steps // 20  # every sub-env ends together after n steps
    generating = time.perf_counter()
    for _ in range(episodes):
        generate_dags(n_envs, n_subtasks=20, rng=rng)
    return steps * n_envs / total, (time.perf_counter() - generating) / total


def per_task_ms(decide_one, tasks) -> float:
    return float(np.median(online_times_us(decide_one, tasks)) / 1e3)


def policies(n_tasks: int) -> None:
    import torch
    from torch import nn

    from baselines.policies import NetworkPolicy, Standardize, mlp

    torch.manual_seed(0)
    dags = generate_dags(n_tasks, n_subtasks=20, rng=np.random.default_rng(1))
    settings = DagSettings.for_model(20)
    layout = DagLayout(20)
    static = layout.static_part(dags)
    singles = [dags[i] for i in range(n_tasks)]
    figures = {
        "MILP (solve_milp)": per_task_ms(solvers.solve_milp, singles),
        "HEFT": per_task_ms(solvers.heft, singles),
    }
    for name, hidden in (("dil_seq (3 x 256)", (256,) * 3), ("dqn (2 x 256)", (256,) * 2)):
        net = nn.Sequential(Standardize.fit(static), *mlp(layout.size, hidden, 3))
        policy = NetworkPolicy(name, net, "sequential", 20).with_backend("numpy")

        def greedy(observations, _episodes, policy=policy):
            return policy.scores(observations).argmax(axis=1)

        figures[name] = per_task_ms(
            lambda task, greedy=greedy: rollout(task, greedy, settings), singles
        )
        # The batched path on one task: the slower path the single-task one must equal.
        slow = per_task_ms(
            lambda task, greedy=greedy: _batched_rollout(task, greedy, settings), singles
        )
        fast = np.concatenate([rollout(task, greedy, settings)[0] for task in singles])
        same = np.array_equal(
            fast, np.concatenate([_batched_rollout(t, greedy, settings) for t in singles])
        )
        figures[f"{name}, batched path"] = slow
        print(f"  {name}: the single-task path decides as the batched path: {same}")
    print("online time per task at n = 20 (median over tasks, one at a time):")
    for name, ms in figures.items():
        print(f"  {name:32s} {ms:8.3f} ms")


def _batched_rollout(task, decide, settings) -> np.ndarray:
    episodes = DagEpisodes(task, None, settings)
    while not episodes.done:
        episodes.advance(decide(episodes.observation_batch, episodes))
    return episodes.places.copy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    quick = parser.parse_args().quick
    repeats, steps = (1, 3000) if quick else (5, 30_000)
    pool = generate_dag_dataset(200, n_subtasks=20, seed=0, progress=False)
    rows = {
        "CartPole-v1": ("CartPole-v1", {}),
        "MecOffloadDag-v0 n=10": ("MecOffloadDag-v0", {"n_subtasks": 10}),
        "MecOffloadDag-v0 n=20": ("MecOffloadDag-v0", {"n_subtasks": 20}),
        "MecOffloadDag-v0 n=30": ("MecOffloadDag-v0", {"n_subtasks": 30}),
        "n=20, labelled task_pool": ("MecOffloadDag-v0", {"n_subtasks": 20, "task_pool": pool}),
        "n=20, contention": ("MecOffloadDag-v0", {"n_subtasks": 20, "contention": True}),
    }
    rates = dict.fromkeys(rows, 0.0)
    for _ in range(repeats):  # interleaved, so load changes hit all alike
        for name, (env_id, kwargs) in rows.items():
            rates[name] = max(rates[name], steps_per_second(env_id, steps, **kwargs))
    print("env steps per second (gym.make, random actions, best of", repeats, "runs):")
    for name, rate in rates.items():
        print(f"  {name:28s} {rate:10,.0f}  ({rate / rates['CartPole-v1']:.3f}x CartPole-v1)")
    print("MecOffloadDagVectorEnv, n = 20 (steps/s over all sub-envs; share generating DAGs):")
    for n_envs in (64, 1024):
        best, share = 0.0, 0.0
        for _ in range(repeats):
            rate, generating = vector_rate(n_envs, 20 * (2 if quick else 10))
            if rate > best:
                best, share = rate, generating
        print(f"  {n_envs:5d} envs {best:12,.0f} steps/s  ({share:.0%} generating DAGs)")
    policies(20 if quick else 100)


if __name__ == "__main__":
    main()
