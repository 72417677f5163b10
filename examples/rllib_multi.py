"""Multi-agent PPO from Ray RLlib on the multi-user PettingZoo env: one policy shared by all users.

Every user of ``MecOffloadMultiParallelEnv`` (``user_0`` ..) is an agent placing its own
tasks from its local observation; all of them map to one RLlib policy, ``"shared"``,
trained by PPO on Ray's new API stack with several env runners. Rewards are each user's
own task's cost (``reward_mode="absolute"``), so an episode's return is minus the cost of
all its tasks. A user without a task has its action ignored (the env shows it in
``infos[agent]["action_mask"]``); the policy acts for it anyway, unmasked, as SB3's do.

RLlib's env runners are separate processes: the env creator imports the package itself.
Needs RLlib and PettingZoo, which bring gymnasium 1.x, so give them their own venv
(``make test-ray`` builds one): ``pip install "gym-mecoffload[rllib,multiagent]"``.
Settings: ``baselines/config.py``.

    python examples/rllib_multi.py [--iterations N] [--env-runners N] [--batch N]
        [--users U] [--servers S] [--horizon T] [--test-episodes N] [--address RAY_ADDRESS]

Prints each iteration's mean return, then the greedy shared policy's mean cost per task on
fresh seeded episodes, beside the ``local``, ``random`` and ``myopic`` policies' on the
same episodes.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module import MeanStdFilter
from ray.tune.registry import register_env

from baselines import config
from gym_mecoffload.multi.experts import agent_actions, make_policy
from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv
from gym_mecoffload.ray_cluster import connect_ray

ENV_NAME = "gym_mecoffload_multi_parallel"
POLICY = "shared"
BASELINES = ("local", "random", "myopic")
TEST_SEED = 1_000_000  # test episode i is reset with seed TEST_SEED + i (fresh: not in training)


def make_env(env_config: dict[str, Any]) -> object:
    """The PettingZoo env wrapped for RLlib (imports inside: env runners are separate
    processes)."""
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv

    return ParallelPettingZooEnv(MecOffloadMultiParallelEnv(**dict(env_config)))


def _shared(agent_id: str, episode: object = None, **kwargs: Any) -> str:
    return POLICY


def _standardise(env: object, spaces: object = None, device: object = None) -> MeanStdFilter:
    # Observations mix seconds, bytes, Hz and counts over many orders of magnitude:
    # RLlib's running mean/std filter (one per agent) puts them on one scale.
    return MeanStdFilter(multi_agent=True)


def train(env_config: dict[str, Any], iterations: int, env_runners: int, batch: int) -> object:
    """An RLlib multi-agent PPO algorithm with one shared policy, trained ``iterations``."""
    register_env(ENV_NAME, make_env)
    ppo = (
        PPOConfig()
        .environment(ENV_NAME, env_config=env_config)
        .env_runners(
            num_env_runners=env_runners,
            num_envs_per_env_runner=1,
            env_to_module_connector=_standardise,
            create_env_on_local_worker=True,  # its merged filter serves the evaluation here
        )
        .multi_agent(policies={POLICY}, policy_mapping_fn=_shared)
        .training(
            **{
                **config.RLLIB_MULTI_PPO,
                "train_batch_size_per_learner": batch,
                "minibatch_size": min(batch, config.RLLIB_MULTI_PPO["minibatch_size"]),
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
            f"iteration {iteration}: mean return {runners['episode_return_mean']:.3f} "
            f"over {runners['num_episodes']} episodes",
            flush=True,
        )
    return algo


def _observation_filters(algo: object) -> dict[str, Any]:
    """Per agent, the observation filter of the local env runner (holding the statistics
    merged from every env runner after each iteration)."""
    for piece in algo.env_runner._env_to_module.connectors:
        if isinstance(piece, MeanStdFilter):
            return piece._filters
    raise RuntimeError("no MeanStdFilter in the env runner's env-to-module pipeline")


def greedy_policy(algo: object):
    """``act(observations) -> actions``: the shared policy's greedy places, on observations
    standardised with the training statistics (not updated by the test episodes)."""
    module = algo.get_module(POLICY)
    filters = _observation_filters(algo)

    def act(observations: dict[str, np.ndarray]) -> dict[str, int]:
        agents = list(observations)
        obs = np.stack([filters[a](observations[a], update=False) for a in agents])
        with torch.no_grad():
            out = module.forward_inference({"obs": torch.as_tensor(obs, dtype=torch.float32)})
        places = out["action_dist_inputs"].argmax(dim=-1).numpy()
        return {a: int(p) for a, p in zip(agents, places, strict=True)}

    return act


def cost_per_task(env_config: dict[str, Any], episodes: int, choose) -> float:
    """The mean over ``episodes`` seeded test episodes of each episode's cost per task;
    ``choose(env, observations)`` gives the acting agents' actions."""
    env = MecOffloadMultiParallelEnv(**env_config)
    ratios = []
    for i in range(episodes):
        observations, infos = env.reset(seed=TEST_SEED + i)
        while env.agents:
            acting = {a: observations[a] for a in env.agents}
            observations, _, _, _, infos = env.step(choose(env, acting))
        figures = next(iter(infos.values()))["episode"]
        ratios.append(figures["cost"] / max(int(figures["tasks"]), 1))
    return float(np.mean(ratios))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=config.RLLIB_MULTI_ITERATIONS)
    parser.add_argument("--env-runners", type=int, default=config.RLLIB_ENV_RUNNERS)
    parser.add_argument(
        "--batch",
        type=int,
        default=config.RLLIB_MULTI_PPO["train_batch_size_per_learner"],
        help="env steps (slots) per training iteration",
    )
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--horizon", type=int, default=20, help="slots per episode")
    parser.add_argument("--test-episodes", type=int, default=20)
    parser.add_argument(
        "--address", default=None, help="Ray cluster (default: RAY_ADDRESS or local)"
    )
    args = parser.parse_args(argv)
    for option in (
        "iterations",
        "env_runners",
        "batch",
        "users",
        "servers",
        "horizon",
        "test_episodes",
    ):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be >= 1")
    env_config = {
        "scenario": "multi",
        "users": args.users,
        "servers": args.servers,
        "horizon": args.horizon,
    }
    try:  # the scenario's own checks, before Ray starts
        MecOffloadMultiParallelEnv(**env_config)
    except ValueError as error:
        parser.error(str(error))
    # A local Ray instance: one CPU per env runner, the learner in this process.
    connect_ray(args.address, workers=args.env_runners)
    algo = train(env_config, args.iterations, args.env_runners, args.batch)
    act = greedy_policy(algo)
    trained = cost_per_task(env_config, args.test_episodes, lambda env, obs: act(obs))
    algo.stop()
    costs = {}
    for name in BASELINES:
        policy = make_policy(name)
        costs[name] = cost_per_task(
            env_config,
            args.test_episodes,
            lambda env, obs, policy=policy: agent_actions(policy, env.core, env.agents),
        )
    others = ", ".join(f"{name} {cost:.4f}" for name, cost in costs.items())
    print(
        f"PPO cost per task {trained:.4f} ({others}) on {args.test_episodes} test episodes",
        flush=True,
    )


if __name__ == "__main__":
    main()
