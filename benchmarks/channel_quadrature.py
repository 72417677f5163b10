"""The MDP expert's quadrature on ``iid`` and ``rayleigh`` channels: its error and its cost.

``python benchmarks/channel_quadrature.py [--tasks 200]`` prints, for cells per link
M = 8 .. 96, the mean over paper tasks of the expected optimal latency the expert
computes (an upper bound, by Jensen), the proved lower bound, the estimate's
distance to the 96-cell one, and the time per task to build the expert, plus a
Monte Carlo estimate of the 16-cell expert's own latency.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gym_mecoffload.chain.model import cost, sample_states
from gym_mecoffload.channels import ChannelModel
from gym_mecoffload.channels.experts import MdpExpert, rollout

CELLS = (8, 16, 32, 64, 96)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--episodes", type=int, default=2000, help="Monte Carlo episodes per task")
    args = parser.parse_args()
    tasks = sample_states(args.tasks, rng=np.random.default_rng(0))
    for channel in ("iid", "rayleigh"):
        model = ChannelModel.build(channel, 0.0, "paper")
        rows = {}
        for cells in CELLS:
            started = time.perf_counter()
            expert = MdpExpert(tasks, model, n_cells=cells)
            build_ms = (time.perf_counter() - started) / args.tasks * 1e3
            lower, upper = expert.expected_cost_bounds()
            rows[cells] = (upper.mean(), lower.mean(), build_ms)
        finest = rows[CELLS[-1]][0]
        print(
            f"\n{channel}: mean over {args.tasks} paper tasks of the expected optimal latency (s)"
        )
        print(f"{'cells':>6} {'estimate':>10} {'lower':>10} {'vs 96 cells':>12} {'ms/task':>8}")
        for cells, (estimate, lower, build_ms) in rows.items():
            print(
                f"{cells:>6} {estimate:10.4f} {lower:10.4f} "
                f"{(estimate / finest - 1) * 100:11.3f}% {build_ms:8.2f}"
            )
        # The 16-cell expert's own latency by Monte Carlo, every task replayed on fresh slots.
        rng = np.random.default_rng(1)
        repeated = tasks[np.repeat(np.arange(args.tasks), args.episodes)]
        drawn, slots = model.realise(repeated, rng)
        latency = cost(drawn, rollout(drawn, slots, MdpExpert(drawn, model)), "latency", slots)
        per_task = latency.reshape(args.tasks, args.episodes).mean(axis=1)
        error = latency.reshape(args.tasks, args.episodes).std(axis=1).mean() / np.sqrt(
            args.episodes * args.tasks
        )
        print(
            f"Monte Carlo, 16-cell expert: {per_task.mean():.4f} s (+- {error:.4f}), "
            f"{(per_task.mean() / rows[16][0] - 1) * 100:+.3f}% from its own estimate"
        )


if __name__ == "__main__":
    main()
