"""The multi-user family: the batched core's speed, and the "multi" preset's check that no
fixed rule is within 10% of the myopic expert (SPEC-MULTI section 7).

    python benchmarks/bench_multi.py [--systems 1024] [--episodes 256]

Prints user-decisions/s of ``MultiCore.step`` at B systems of U = 10 users, S = 3 (random
places; the target is 1M/s at B = 1024), and per policy the mean cost per task on the
default preset over the same seeded episodes, as a ratio to myopic.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.experts import Myopic, Sequential, make_policy
from gym_mecoffload.multi.model import draw_episodes, make_scenario


class Fixed(Sequential):
    """Every task on one kind of place: ``"cloud"`` through its best link's server."""

    def choose(self, plan, slot, i):
        bi = np.arange(plan.size)
        best = plan.episodes.mean_bandwidth[bi, slot.seq[:, i]].argmax(axis=-1)
        return 1 + plan.scenario.servers + best


def core_speed(systems: int, repeats: int = 3) -> float:
    sc = make_scenario("multi")
    rng = np.random.default_rng(0)
    core = MultiCore(sc, "latency", Objective(), systems)
    episodes = draw_episodes(sc, systems, rng)
    places = rng.integers(0, sc.n_places, size=(sc.horizon, systems, sc.users))
    best = 0.0
    for _ in range(repeats):
        core.reset(episodes)
        start = time.perf_counter()
        for t in range(sc.horizon):
            core.step(places[t])
        seconds = time.perf_counter() - start
        best = max(best, systems * sc.users * sc.horizon / seconds)
    return best


def preset_check(episodes: int) -> dict[str, float]:
    sc = make_scenario("multi")
    drawn = draw_episodes(sc, episodes, np.random.default_rng(1))
    policies = {
        "myopic": Myopic(),
        "local": make_policy("local"),
        "nearest": make_policy("nearest"),
        "cloud": Fixed(),
        "dpp": make_policy("dpp"),
        "jsq": make_policy("jsq"),
        "least_backlog": make_policy("least_backlog"),
        "random": make_policy("random"),
    }
    per_task = {}
    for name, policy in policies.items():
        core = MultiCore(sc, "latency", Objective(), episodes)
        core.reset(drawn)
        while not core.done.any():
            core.step(policy(core))
        per_task[name] = core.record_cost.sum() / (core.record_place >= 0).sum()
    return per_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument("--episodes", type=int, default=256)
    args = parser.parse_args()
    print("batched core, U = 10, S = 3, random places")
    for systems in args.systems:
        print(f"  B = {systems:5d}: {core_speed(systems):12,.0f} user-decisions/s")
    sc = make_scenario("multi")
    print(
        f'"multi" preset (load {sc.load():.2f}): mean cost per task over {args.episodes} episodes'
    )
    figures = preset_check(args.episodes)
    for name, value in figures.items():
        print(f"  {name:14s} {value:8.4f} s  ({value / figures['myopic']:.3f} x myopic)")


if __name__ == "__main__":
    main()
