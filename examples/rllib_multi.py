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

    python examples/rllib_multi.py --study DIR [--only LABEL ...] [--seeds N]

adds RLlib's PPO to the multi-user study in ``DIR`` (written by ``python -m
baselines.multi --out DIR``): on each setting (its scenario, objective and reward as SB3's
learners there), per training seed, PPO trains for the env steps of SB3's budget (its
user-decisions over U), with one iteration per SB3 PPO rollout, and plays the study's
test episodes; the figures go to ``DIR/rllib.json``, which ``python -m baselines.multi
--out DIR --report`` puts into the study's tables and plots.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module import MeanStdFilter
from ray.tune.registry import register_env

from baselines import config
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.experts import agent_actions, make_policy
from gym_mecoffload.multi.observations import local_observations
from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv
from gym_mecoffload.ray_cluster import connect_ray
from gym_mecoffload.report import write_json

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


def train(
    env_config: dict[str, Any],
    env_runners: int,
    batch: int,
    *,
    iterations: int | None = None,
    env_steps: int | None = None,
    seed: int = 0,
) -> tuple[object, int]:
    """An RLlib multi-agent PPO algorithm with one shared policy, trained ``iterations``
    times or until it has sampled ``env_steps`` env steps (slots); with the env steps it
    sampled."""
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
        .debugging(seed=seed)
    )
    algo = ppo.build_algo()
    iteration, sampled = 0, 0
    while (iterations is not None and iteration < iterations) or (
        env_steps is not None and sampled < env_steps
    ):
        result = algo.train()
        iteration += 1
        runners = result["env_runners"]
        sampled = int(runners["num_env_steps_sampled_lifetime"])
        print(
            f"iteration {iteration}: mean return {runners['episode_return_mean']:.3f} "
            f"over {runners['num_episodes']} episodes",
            flush=True,
        )
    return algo, sampled


def _observation_filters(algo: object) -> dict[str, Any]:
    """Per agent, the observation filter of the local env runner (holding the statistics
    merged from every env runner after each iteration)."""
    for piece in algo.env_runner._env_to_module.connectors:
        if isinstance(piece, MeanStdFilter):
            return piece._filters
    raise RuntimeError("no MeanStdFilter in the env runner's env-to-module pipeline")


def greedy_policy(algo: object):
    """``policy(core) -> places`` like the family's experts: the shared policy's greedy
    place for every user from its local observation (the PettingZoo env's), standardised
    with the training statistics (not updated by the test episodes)."""
    module = algo.get_module(POLICY)
    filters = _observation_filters(algo)

    def policy(core: MultiCore) -> np.ndarray:
        observations = local_observations(core)
        B, U, width = observations.shape
        x = np.stack(
            [filters[f"user_{u}"](observations[:, u], update=False) for u in range(U)], axis=1
        )
        with torch.no_grad():
            out = module.forward_inference(
                {"obs": torch.as_tensor(x.reshape(-1, width), dtype=torch.float32)}
            )
        places = out["action_dist_inputs"].argmax(dim=-1).numpy().reshape(B, U)
        return np.where(observations[..., 0] > 0, places, 0)

    return policy


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


def run_study(
    directory: Path, only: list[str] | None, seeds: int | None, env_runners: int
) -> dict[str, Any]:
    """RLlib's PPO on the study's settings in ``directory`` (module doc); writes and
    returns ``directory/rllib.json`` (earlier settings' entries kept)."""
    from baselines.evaluation import evaluate_multi
    from baselines.studies import multi as study

    saved = json.loads((directory / "results.json").read_text())
    sizes = study.Sizes(**saved["sizes"])
    chosen = study.chosen_settings(sizes.horizon, tuple(saved["results"] if only is None else only))
    path = directory / "rllib.json"
    out = json.loads(path.read_text()) if path.exists() else {"policy": "rllib_ppo"}
    out.setdefault("results", {})
    batch = config.MULTI_PPO["n_steps"] * config.MULTI_SYSTEMS  # env steps per SB3 rollout
    for setting in chosen:
        sc = setting.scenario
        env_config = {
            "scenario": sc,
            "objective": setting.objective,
            "reward_mode": setting.reward_mode,
        }
        budget = math.ceil(sizes.sb3_timesteps / sc.users)  # SB3's user-decisions in slots
        runs, sampled, seconds = [], [], []
        for seed in range(sizes.seeds if seeds is None else seeds):
            print(f"{setting.label}: seed {seed}, {budget} env steps", flush=True)
            started = time.perf_counter()
            algo, steps = train(env_config, env_runners, batch, env_steps=budget, seed=seed)
            seconds.append(time.perf_counter() - started)
            sampled.append(steps)
            evaluation = evaluate_multi(
                greedy_policy(algo),
                sc,
                study.evaluation_episodes(setting, sizes),
                study.TEST_SEED,
                setting.objective,
            )
            runs.append(evaluation.figures())
            algo.stop()
        out["results"][setting.label] = {
            "runs": runs,
            "env_steps": sampled,
            "train_seconds": float(np.mean(seconds)),
        }
        write_json(path, out)
    return out


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
    parser.add_argument(
        "--study", type=Path, default=None, help="the multi-user study's folder (module doc)"
    )
    parser.add_argument("--only", nargs="+", default=None, help="with --study: these settings")
    parser.add_argument("--seeds", type=int, default=None, help="with --study: training seeds")
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
    if args.seeds is not None and args.seeds < 1:
        parser.error("--seeds must be >= 1")
    if args.study is not None:
        if not (args.study / "results.json").is_file():
            parser.error(f"--study {args.study}: no results.json (run python -m baselines.multi)")
        connect_ray(args.address, workers=args.env_runners)
        run_study(args.study, args.only, args.seeds, args.env_runners)
        return
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
    algo, _ = train(env_config, args.env_runners, args.batch, iterations=args.iterations)
    trained_policy = greedy_policy(algo)
    trained = cost_per_task(
        env_config,
        args.test_episodes,
        lambda env, obs: agent_actions(trained_policy, env.core, env.agents),
    )
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
