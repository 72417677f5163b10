"""What the scale-free reward does to DQN and PPO: ``python -m baselines.studies.reward_modes --out DIR``.

Trains SB3's DQN and PPO per subtask on ``MecOffload-v0`` with the settings
of ``baselines/config.py``, once with ``reward_mode="absolute"`` (minus the
seconds a step adds) and once with ``"relative"`` (the same over the task's
optimal latency), over several seeds, and tests every policy on the same 10K
paper tasks. Writes ``DIR/results.json`` and ``DIR/results.md``. ``--quick``
runs tiny sizes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from baselines import config
from baselines.dqn import train_dqn
from baselines.evaluation import evaluate, pin_threads
from baselines.ppo import train_ppo
from baselines.studies.sweeps import log
from gym_mecoffload.chain.data import generate_dataset
from gym_mecoffload.core.episodes import REWARD_MODES
from gym_mecoffload.report import markdown_table, write_json, write_text


def _train(algorithm: str, mode: str, timesteps: int, seed: int, progress: bool):
    # The same seed for both modes: the same network init, tasks and exploration draws.
    rng = np.random.default_rng([seed, 2])
    if algorithm == "dqn":
        return train_dqn(
            "sequential", timesteps=timesteps, reward_mode=mode, rng=rng, progress=progress
        )
    return train_ppo(timesteps=timesteps, reward_mode=mode, rng=rng, progress=progress)


def run(
    out: Path, *, timesteps: dict[str, int], n_test: int, seeds: int, progress: bool = True
) -> dict[str, dict[str, float]]:
    """Mean and spread over seeds of each (algorithm, reward mode)'s test figures."""
    pin_threads()
    test = generate_dataset(n_test, scenario="paper", rng=np.random.default_rng([0, 1]))
    per_run: dict[str, list[dict[str, float]]] = {}
    for seed in range(seeds):
        for algorithm, steps in timesteps.items():
            for mode in REWARD_MODES:
                log(f"{algorithm}, reward_mode={mode!r}, seed {seed}")
                policy, history = _train(algorithm, mode, steps, seed, progress)
                figures = evaluate(policy, test)
                figures["train_seconds"] = history.seconds
                per_run.setdefault(f"{algorithm}, {mode}", []).append(figures)
    results = {}
    for key, runs in per_run.items():
        ratios = np.array([r["mean_ratio"] for r in runs])
        results[key] = {
            "mean_ratio": float(ratios.mean()),
            "mean_ratio_std": float(ratios.std()),
            "per_seed": ratios.tolist(),
            "ratio_of_means": float(np.mean([r["ratio_of_means"] for r in runs])),
            "exact_match": float(np.mean([r["exact_match"] for r in runs])),
            "train_seconds": float(np.mean([r["train_seconds"] for r in runs])),
        }
    settings = {
        "timesteps": timesteps,
        "n_test": n_test,
        "seeds": seeds,
        "dqn": config.DQN,
        "ppo": {**config.PPO, "n_envs": config.PPO_N_ENVS},
    }
    write_json(out / "results.json", {"settings": settings, "results": results})
    table = markdown_table(
        results,
        ["mean_ratio", "mean_ratio_std", "ratio_of_means", "exact_match", "train_seconds"],
        first="learner, reward_mode",
    )
    write_text(
        out / "results.md",
        f"# Reward modes: {timesteps} env steps, {seeds} seeds, {n_test} test tasks\n\n{table}",
    )
    print(table)
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, under a minute")
    parser.add_argument("--out", type=Path, required=True, help="folder for the results")
    parser.add_argument("--seeds", type=int, default=2, help="training seeds (default 2)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1; got {args.seeds}")
    if args.quick:
        timesteps, n_test = {"dqn": 3000, "ppo": 4096}, 1000
    else:
        timesteps, n_test = {"dqn": config.DQN_TIMESTEPS, "ppo": config.PPO_TIMESTEPS}, 10_000
    return run(
        args.out,
        timesteps=timesteps,
        n_test=n_test,
        seeds=args.seeds,
        progress=not args.no_progress,
    )


if __name__ == "__main__":
    main()
