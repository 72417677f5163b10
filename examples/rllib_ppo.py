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

Prints each iteration's mean return, then the greedy policy's cost over the optimum
(mean of ratios) on fresh test tasks, beside random places'.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module import MeanStdFilter

import gym_mecoffload  # noqa: F401  (registers the ids in this process)
from baselines import config
from gym_mecoffload.ray_cluster import connect_ray

ENVS = {
    # name: (env id for RLlib, env_config)
    "chain": ("gym_mecoffload:MecOffload-v0", {"reward_mode": "relative"}),
    "dag": (
        "gym_mecoffload:MecOffloadDag-v0",
        {"n_subtasks": config.RLLIB_DAG_SUBTASKS, "optimum": "milp", "reward_mode": "relative"},
    ),
}


def _standardise(env: object, spaces: object = None, device: object = None) -> MeanStdFilter:
    # Observations mix seconds, bytes and Hz over many orders of magnitude: RLlib's running
    # mean/std filter puts them on one scale (as our SB3 baselines' standardising layer).
    return MeanStdFilter()


def train(name: str, iterations: int, env_runners: int, batch: int, test_tasks: int) -> object:
    """An RLlib PPO algorithm trained for ``iterations`` on ``name``'s env, set up to
    evaluate greedily on ``test_tasks`` episodes in this process."""
    env_id, env_config = ENVS[name]
    ppo = (
        PPOConfig()
        .environment(env_id, env_config=env_config)
        .env_runners(
            num_env_runners=env_runners,
            num_envs_per_env_runner=1,
            env_to_module_connector=_standardise,
            create_env_on_local_worker=True,  # evaluation runs in this process
        )
        .training(
            **{
                **config.RLLIB_PPO,
                "train_batch_size_per_learner": batch,
                "minibatch_size": min(batch, config.RLLIB_PPO["minibatch_size"]),
            }
        )
        .rl_module(model_config={"fcnet_hiddens": list(config.RLLIB_HIDDEN)})
        .evaluation(
            evaluation_num_env_runners=0,
            evaluation_duration=test_tasks,
            evaluation_duration_unit="episodes",
            evaluation_config={"explore": False},
        )
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


def evaluate(algo: object, tasks: int) -> float:
    """Mean cost over the optimum's on ``tasks`` fresh tasks, placed greedily by RLlib's
    evaluation runner (which standardises observations with the training runners'
    statistics). With relative rewards an episode's return is minus that ratio."""
    result = algo.evaluate()
    runners = result["env_runners"]
    assert runners["num_episodes"] >= tasks, runners["num_episodes"]
    return -float(runners["episode_return_mean"])


def random_places(name: str, tasks: int, seed: int = 1) -> float:
    """The same ratio for uniformly random places, for scale."""
    env_id, env_config = ENVS[name]
    env = gym.make(env_id, **env_config)
    rng = np.random.default_rng(seed)
    returns = []
    env.reset(seed=seed)
    for _ in range(tasks):
        total, terminated = 0.0, False
        while not terminated:
            _, reward, terminated, _, _ = env.step(int(rng.integers(3)))
            total += reward
        returns.append(total)
        env.reset()
    return -float(np.mean(returns))


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
        algo = train(name, args.iterations, args.env_runners, args.batch, args.test_tasks)
        trained = evaluate(algo, args.test_tasks)
        algo.stop()
        random = random_places(name, args.test_tasks)
        print(
            f"{name}: PPO {trained:.3f} x the optimum on {args.test_tasks} test tasks "
            f"(random places: {random:.3f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
