"""The exact expert's tier: solve time and states by horizon, and labelling speed.

    python benchmarks/bench_multi_exact.py [--horizons 3 4 5] [--systems 2000]

For each horizon of the ``"tiny"`` preset (U = 2, S = 2, three task types) and of its
one-server variant, prints the states valued and the solve's seconds; then, on the tiny
preset itself, labels ``--systems`` seeded episodes with ``decide`` slot by slot and prints
the states labelled per second (target: at least 1,000).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.exact import ExactExpert
from gym_mecoffload.multi.model import draw_episodes, make_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizons", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--systems", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'servers':>7} {'T':>3} {'states':>9} {'solve s':>8} {'E[cost]':>9}")
    expert = None
    for servers in (1, 2):
        for horizon in args.horizons:
            sc = make_scenario("tiny", servers=servers, horizon=horizon)
            start = time.perf_counter()
            solved = ExactExpert(sc)
            seconds = time.perf_counter() - start
            print(
                f"{servers:>7} {horizon:>3} {solved.states_solved:>9,} {seconds:>8.2f} "
                f"{solved.expected_cost():>9.4f}"
            )
            if servers == 2 and horizon == make_scenario("tiny").horizon:
                expert = solved
    sc = make_scenario("tiny")
    if expert is None:
        expert = ExactExpert(sc)
    core = MultiCore(sc, "latency", Objective(), args.systems)
    core.reset(draw_episodes(sc, args.systems, np.random.default_rng(0)))
    labelled = 0
    start = time.perf_counter()
    while not core.done.any():
        places = expert.decide(core)
        labelled += core.size
        core.step(places)
    seconds = time.perf_counter() - start
    print(f"labelling the tiny preset (T = {sc.horizon}): {labelled / seconds:,.0f} states/s")


if __name__ == "__main__":
    main()
