"""PPO from Ray RLlib on MecOffload-v0 and MecOffloadDag-v0, with several env runners.

RLlib's env runners are separate processes that never import this package: name the
envs with its prefix ("gym_mecoffload:MecOffload-v0") so that each runner imports it,
and give the env's keyword arguments as ``env_config``. Rewards are scale-free
(``reward_mode="relative"``: each step's latency over the task's optimum), which
the DAG env computes from the MILP expert it runs at each reset (``optimum="milp"``).

Needs RLlib, which brings gymnasium 1.x, so give it its own venv (``make test-ray``
builds one): ``pip install "gym-mecoffload[rllib]"``. Settings: ``baselines/config.py``.

    python examples/rllib_ppo.py [--env chain|dag|both] [--iterations N]
        [--env-runners N] [--address RAY_ADDRESS]

Prints each iteration's mean return, then the greedy policy's latency over the optimum
on fresh test tasks, beside a random policy's.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo import PPOConfig

import gym_mecoffload  # noqa: F401  (registers the ids in this process)
from baselines import config
from gym_mecoffload.executors import connect_ray

ENVS = {
    # name: (env id for RLlib, env_config, what the final info's cost and optimum are called)
    "chain": (
        "gym_mecoffload:MecOffload-v0",
        {"reward_mode": "relative"},
        ("latency", "optimal_latency"),
    ),
    "dag": (
        "gym_mecoffload:MecOffloadDag-v0",
        {
            "n_subtasks": config.RLLIB_DAG_SUBTASKS,
            "optimum": "milp",
            "reward_mode": "relative",
        },
        ("makespan", "milp_cost"),
    ),
}


def train(name: str, iterations: int, env_runners: int, batch: int) -> object:
    """An RLlib PPO algorithm trained for ``iterations`` on ``name``'s env."""
    env_id, env_config, _ = ENVS[name]
    ppo = (
        PPOConfig()
        .environment(env_id, env_config=env_config)
        .env_runners(num_env_runners=env_runners, num_envs_per_env_runner=1)
        .training(
            **{
                **config.RLLIB_PPO,
                "train_batch_size_per_learner": batch,
                "minibatch_size": min(batch, config.RLLIB_PPO["minibatch_size"]),
            }
        )
        .rl_module(model_config={"fcnet_hiddens": list(config.RLLIB_HIDDEN)})
        .debugging(seed=0)
    )
    algo = ppo.build_algo()
    for iteration in range(1, iterations + 1):
        result = algo.train()
        runners = result["env_runners"]
        print(
            f"{name} iteration {iteration}: mean return {runners['episode_return_mean']:.3f} "
            f"over {runners['num_episodes']} episodes",
            flush=True,
        )
    return algo


def evaluate(name: str, algo: object | None, tasks: int, seed: int = 1) -> float:
    """Mean cost over the optimum's on ``tasks`` fresh tasks: the trained module's greedy
    places, or uniformly random places when ``algo`` is None."""
    env_id, env_config, (cost_key, optimum_key) = ENVS[name]
    env = gym.make(env_id, **{**env_config, "reward_mode": "absolute"})
    module = None if algo is None else algo.get_module()
    rng = np.random.default_rng(seed)
    ratios = []
    observation, _ = env.reset(seed=seed)
    for _ in range(tasks):
        terminated = False
        while not terminated:
            if module is None:
                action = int(rng.integers(3))
            else:
                with torch.no_grad():
                    out = module.forward_inference({"obs": torch.from_numpy(observation[None])})
                action = int(out["action_dist_inputs"][0].argmax())
            observation, _, terminated, _, info = env.step(action)
        ratios.append(info[cost_key] / info[optimum_key])
        observation, _ = env.reset()
    return float(np.mean(ratios))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--env", choices=[*ENVS, "both"], default="both")
    parser.add_argument("--iterations", type=int, default=config.RLLIB_ITERATIONS)
    parser.add_argument("--env-runners", type=int, default=config.RLLIB_ENV_RUNNERS)
    parser.add_argument(
        "--batch",
        type=int,
        default=config.RLLIB_PPO["train_batch_size_per_learner"],
        help="env steps per training iteration",
    )
    parser.add_argument("--test-tasks", type=int, default=500)
    parser.add_argument(
        "--address", default=None, help="Ray cluster (default: RAY_ADDRESS or local)"
    )
    args = parser.parse_args(argv)
    for option in ("iterations", "env_runners", "batch", "test_tasks"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be >= 1")
    # A local Ray instance: one CPU per env runner, the learner in this process.
    connect_ray(args.address, workers=args.env_runners)
    for name in ENVS if args.env == "both" else [args.env]:
        algo = train(name, args.iterations, args.env_runners, args.batch)
        trained = evaluate(name, algo, args.test_tasks)
        random = evaluate(name, None, args.test_tasks)
        algo.stop()
        print(
            f"{name}: PPO {trained:.3f} x the optimum on {args.test_tasks} test tasks "
            f"(random places: {random:.3f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
