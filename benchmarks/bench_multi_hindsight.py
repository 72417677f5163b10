"""How the hindsight MILP's solve time grows with the tasks of an episode.

``python benchmarks/bench_multi_hindsight.py [--tasks 25 50 100 200] [--time-limit 60]
[--config default]`` draws one episode of the ``"multi"`` preset (U = 10, S = 3,
arrival probability 0.5, so about 5 tasks per slot) per size, with ``horizon`` chosen
so that about that many tasks arrive, and prints the tasks, the seconds (all of
``hindsight``, and HiGHS's part), whether the placement was proved optimal, whether the
program is exact for the episode, the simulated cost, the proved bound and the gap.
``--config exact`` uses static links and unlimited sub-channels and buffers (where the
program is exact); ``default`` is the preset as it is (2 sub-channels, 8-task buffers,
iid links: the program is a bound). HiGHS runs on one thread of one core.
"""

from __future__ import annotations

import argparse

import numpy as np

from gym_mecoffload.multi.hindsight import hindsight
from gym_mecoffload.multi.model import draw_episodes, make_scenario

CONFIGS = {
    "default": {},
    "exact": {"channel": "static", "uplink_channels": None, "buffer": None},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="default")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"{'tasks':>5} {'T':>3} {'seconds':>8} {'HiGHS s':>8} {'proved':>6} {'exact model':>11} "
        f"{'cost':>10} {'bound':>10} {'gap %':>7}"
    )
    for wanted in args.tasks:
        horizon = max(1, round(wanted / 5))
        scenario = make_scenario("multi", horizon=horizon, **CONFIGS[args.config])
        episodes = draw_episodes(scenario, 1, np.random.default_rng(args.seed))
        result = hindsight(scenario, episodes, 0, "latency", time_limit=args.time_limit)
        gap = (result.cost - result.lower_bound) / result.cost * 100 if result.cost else 0.0
        print(
            f"{result.tasks:>5} {horizon:>3} {result.seconds:8.2f} {result.milp_seconds:8.2f} "
            f"{result.exact!s:>6} {result.model_exact!s:>11} {result.cost:10.4f} "
            f"{result.lower_bound:10.4f} {gap:7.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
