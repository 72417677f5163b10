"""DAG labelling throughput on a local Ray instance against local processes, in one run.

``python benchmarks/bench_ray_labelling.py [--tasks 480] [--n 20] [--shard-size 16]``
(``make benchmark-ray``) labels the same seeded DAGs (MILP expert, no contention) with
``generate_dag_dataset`` on each executor with 1 and 2 workers, interleaved over
``--repeats`` rounds, and prints the best time of each, tasks per second and the
speed-up over one local process. Every run's dataset is checked identical to the first.

Then what a cluster's throughput depends on, measured here:

* the label time per task on one core (the work a shard carries);
* the executor's overhead per shard: shards of no work, timed end to end on the
  driver (submission, scheduling, the result's return);
* the driver's serial work per task: gathering the shards and validating the dataset
  (costs recomputed), which no number of workers shortens, and the memory the
  gathered dataset takes there.

From these it prints where adding cores stops paying: the ceiling on tasks per second
that the driver's serial work and per-shard overhead set.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gym_mecoffload.dag.data import DagDataset, generate_dag_dataset
from gym_mecoffload.dag.graphs import generate_dags
from gym_mecoffload.dag.model import DAG_FIELDS
from gym_mecoffload.dag.solvers import solve_milp
from gym_mecoffload.executors import Executor, connect_ray, run_shards

CONFIGS = (("local", 1), ("local", 2), ("ray", 1), ("ray", 2))


def _nothing(shard: int) -> int:
    return shard


def _label_seconds(n: int, tasks: int) -> float:
    dags = generate_dags(tasks, n_subtasks=n, rng=np.random.default_rng(n))
    solve_milp(dags[:1])  # warm-up
    started = time.perf_counter()
    solve_milp(dags)
    return (time.perf_counter() - started) / tasks


def _overhead_seconds(executor: str, workers: int | None, shards: int) -> float:
    run_shards(_nothing, range(8), executor=Executor(executor, workers))  # warm-up
    started = time.perf_counter()
    run_shards(_nothing, range(shards), executor=Executor(executor, workers))
    return (time.perf_counter() - started) / shards


def _serial_seconds(data: DagDataset, shard_size: int) -> float:
    """Gathering the shards into one validated dataset, as the generator does, per task."""
    parts = [data[i : i + shard_size] for i in range(0, len(data), shard_size)]
    started = time.perf_counter()
    DagDataset.concatenate(parts)
    return (time.perf_counter() - started) / len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=480)
    parser.add_argument("--n", type=int, default=20, help="subtasks per DAG")
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    connect_ray(workers=2)  # a local instance with 2 CPUs, started outside the timings
    kwargs = dict(n_subtasks=args.n, seed=0, shard_size=args.shard_size, progress=False)
    generate_dag_dataset(args.shard_size * 2, executor="ray", **kwargs)  # Ray workers warm
    best: dict[tuple[str, int], float] = {}
    reference = None
    for _ in range(args.repeats):
        for executor, workers in CONFIGS:
            started = time.perf_counter()
            data = generate_dag_dataset(args.tasks, executor=Executor(executor, workers), **kwargs)
            seconds = time.perf_counter() - started
            best[executor, workers] = min(seconds, best.get((executor, workers), np.inf))
            if reference is None:
                reference = data
            assert np.array_equal(data.decisions, reference.decisions), "datasets differ"
            assert np.array_equal(data.costs, reference.costs), "datasets differ"
    shards = -(-args.tasks // args.shard_size)
    print(
        f"labelling {args.tasks} DAGs of n = {args.n} in {shards} shards of {args.shard_size} "
        f"(best of {args.repeats}; every dataset identical)"
    )
    print(f"{'executor':>9} {'workers':>8} {'seconds':>8} {'tasks/s':>8} {'speed-up':>9}")
    base = best["local", 1]
    for (executor, workers), seconds in best.items():
        print(
            f"{executor:>9} {workers:>8} {seconds:8.2f} {args.tasks / seconds:8.1f} "
            f"{base / seconds:8.2f}x"
        )

    label = _label_seconds(args.n, 100)
    # Empty shards: 2 at a time (each shard's round trip), and, on Ray, all submitted at
    # once (the driver's own rate, which bounds a cluster).
    overhead = {
        "local, 2 workers": _overhead_seconds("local", 2, 400),
        "ray, 2 in flight": _overhead_seconds("ray", 2, 400),
        "ray, all submitted": _overhead_seconds("ray", None, 1000),
    }
    serial = _serial_seconds(reference, args.shard_size)
    per_shard = overhead["ray, all submitted"]
    shard_work = label * args.shard_size
    print(f"\nlabel time per task, one core: {label * 1e3:.2f} ms ({1 / label:.0f} tasks/s/core)")
    for name, seconds in overhead.items():
        print(f"overhead per empty shard, {name}: {seconds * 1e3:.2f} ms")
    print(f"driver's serial work per task (gather and validate): {serial * 1e6:.0f} us")
    arrays = [getattr(reference.dags, name) for name in DAG_FIELDS]
    arrays += [reference.decisions, reference.costs, reference.lower_bound, reference.exact]
    per_task = sum(array.nbytes for array in arrays) / len(reference)
    print(f"the dataset in the driver's memory: {per_task / 1e3:.1f} KB per task")
    print(
        f"a shard of {args.shard_size}: {shard_work * 1e3:.0f} ms of work against "
        f"{per_shard * 1e3:.2f} ms of Ray overhead ({per_shard / shard_work:.1%})"
    )
    # The driver handles every shard and every task in series: beyond these rates, more
    # cores add nothing.
    ceiling = 1 / (serial + per_shard / args.shard_size)
    print(
        f"driver-bound ceiling: {ceiling:,.0f} tasks/s = about {ceiling * label:,.0f} cores' "
        f"worth of labelling at {label * 1e3:.1f} ms per task"
    )


if __name__ == "__main__":
    main()
