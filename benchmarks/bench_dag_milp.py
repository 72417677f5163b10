"""How the DAG expert's MILP solve time grows with n, and what labelling costs.

``python benchmarks/bench_dag_milp.py [--tasks 20]`` solves random DAGs
(``generate_dags`` defaults, edge density 0.5 between adjacent layers) of n = 10,
20, 30, 50 subtasks without contention on one core and prints the median and 90th
percentile seconds per task, the labels per second and per hour on one core, and,
for comparison, HEFT's time per task.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gym_mecoffload.dag.graphs import generate_dags
from gym_mecoffload.dag.solvers import heft, solve_milp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=20, help="tasks per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30, 50])
    args = parser.parse_args()
    print(
        f"{'n':>4} {'median ms':>10} {'p90 ms':>8} {'labels/s':>9} {'labels/h':>10} {'HEFT ms':>8}"
    )
    for n in args.sizes:
        dags = generate_dags(args.tasks, n_subtasks=n, rng=np.random.default_rng(n))
        solve_milp(dags[:1])  # warm-up: imports and HiGHS's first call
        seconds = solve_milp(dags).seconds
        started = time.perf_counter()
        for i in range(len(dags)):
            heft(dags[i])
        heft_ms = (time.perf_counter() - started) / len(dags) * 1e3
        median = float(np.median(seconds))
        print(
            f"{n:>4} {median * 1e3:10.1f} {np.percentile(seconds, 90) * 1e3:8.1f} "
            f"{1 / median:9.1f} {3600 / median:10,.0f} {heft_ms:8.2f}"
        )


if __name__ == "__main__":
    main()
