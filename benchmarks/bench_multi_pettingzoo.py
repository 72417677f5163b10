"""The PettingZoo view's speed against PettingZoo's reference MPE env with as many agents.

    .venv-gym1/bin/pip install mpe2   # once (PettingZoo's MPE, gymnasium 1.x)
    .venv-gym1/bin/python benchmarks/bench_multi_pettingzoo.py [--agents 10] [--steps 3000]

Random actions for every live agent, episodes restarted as they end, in one run; prints
agent-steps/s of each and the ratio (the target: at least 1).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv


def agent_steps_per_second(env, steps: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    n_actions = {agent: env.action_space(agent).n for agent in env.possible_agents}
    done = 0
    start = time.perf_counter()
    for _ in range(steps):
        if not env.agents:
            env.reset()
        actions = {agent: int(rng.integers(n_actions[agent])) for agent in env.agents}
        env.step(actions)
        done += len(actions)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    from mpe2 import simple_spread_v3

    ours = MecOffloadMultiParallelEnv(users=args.agents)
    mpe = simple_spread_v3.parallel_env(N=args.agents, max_cycles=50)
    rows = []
    for _ in range(3):  # interleaved, best of three each
        rows.append(
            (agent_steps_per_second(ours, args.steps), agent_steps_per_second(mpe, args.steps))
        )
    best_ours, best_mpe = max(r[0] for r in rows), max(r[1] for r in rows)
    print(f"{args.agents} agents, random actions, {args.steps} parallel steps, best of 3")
    print(f"  gym_mecoffload multi (S = 3): {best_ours:12,.0f} agent-steps/s")
    print(f"  mpe2 simple_spread_v3:        {best_mpe:12,.0f} agent-steps/s")
    print(f"  ratio: {best_ours / best_mpe:.2f}")


if __name__ == "__main__":
    main()
