"""Reproduce the paper's Fig. 5, Fig. 6 and Table 1: ``python -m baselines.studies.reproduce --out DIR``.

* Fig. 5: every policy trained on 100K and tested on 10K ``paper`` samples
  (DQN trained on the env itself).
* Fig. 6: the Fig. 5 DIL teacher teaches 2 x 32 students from 1K ``paper-kd``
  samples (and the synthetic states ``baselines.kd`` builds from them);
  KD-DIL, the paper's recipe without synthetic states, Baseline DIL, DQN on
  the same 1K states and Greedy, tested on the Fig. 5 test set, over several
  seeds (mean and standard deviation).
* Table 1: decision delay, online and batched, as ratios to Greedy.

Writes ``DIR/results.json``, ``DIR/results.md``, ``DIR/fig5.png``,
``DIR/fig6.png``, ``DIR/table1.png`` and the trained models under
``DIR/models/``. ``--quick`` runs the same pipeline on tiny sizes in a few
minutes.
"""

from __future__ import annotations

import argparse
import time
import zlib
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch

from baselines import config
from baselines.dil import train_dil, train_dil_sequential
from baselines.dqn import train_dqn
from baselines.evaluation import evaluate, measure_delay, pin_threads
from baselines.kd import distill
from baselines.policies import NetworkPolicy, Policy, RandomPolicy, SolverPolicy
from baselines.studies.sweeps import (
    add_executor_arguments,
    executor_from,
    log,
    run_parts,
)
from gym_mecoffload.chain.data import OffloadDataset, generate_dataset
from gym_mecoffload.executors import SEQUENTIAL, Executor
from gym_mecoffload.report import markdown_table, write_json, write_text

# The paper's numbers (SPEC section 4). Fig. 5 and 6 give only DIL's value in the text.
PAPER_FIG5 = {"optimal": 1.0, "dil": 1.095}
PAPER_TABLE1 = {
    "kd_dil": 0.17,
    "dil": 0.51,
    "dqn_joint": 119.72,
    "greedy": 1.00,
    "exhaustive": 122.54,
}
# Fig. 6's students: name -> (KD loss, augmentation). "kd_dil_no_augment" is the paper's recipe.
# (loss="bdd" is left out only to keep the full run within 30 minutes.)
KD_STUDENTS = {
    "kd_dil": ("paper", config.KD_AUGMENT),
    "kd_dil_no_augment": ("paper", "none"),
    "kd_dil_hinton": ("hinton", config.KD_AUGMENT),
    "kd_dil_dkd": ("dkd", config.KD_AUGMENT),
}


@dataclass(frozen=True)
class Sizes:
    """How much data and training each part gets."""

    n_train: int = 100_000
    n_test: int = 10_000
    n_kd_train: int = 1_000
    dil_epochs: int = config.DIL_EPOCHS
    dil_seq_epochs: int = config.DIL_SEQUENTIAL_EPOCHS
    dagger_timesteps: int = 3_000  # imitation saves each episode as a dataset: ~0.1 s per 6 steps
    student_epochs: int = config.STUDENT_EPOCHS
    dqn_timesteps: int = config.DQN_TIMESTEPS
    dqn_joint_timesteps: int = config.DQN_JOINT_TIMESTEPS
    dqn_kd_timesteps: int = config.DQN_1K_TIMESTEPS
    online_tasks: int = 1000
    seeds: int = 3


QUICK = Sizes(
    n_train=3000,
    n_test=1000,
    n_kd_train=300,
    dil_epochs=4,
    dil_seq_epochs=2,
    dagger_timesteps=600,
    student_epochs=20,
    dqn_timesteps=3000,
    dqn_joint_timesteps=2000,
    dqn_kd_timesteps=2000,
    online_tasks=100,
    seeds=2,
)


def _summarise(runs: list[dict[str, float]]) -> dict[str, float]:
    """Mean of each figure over seeds, with ``<figure>_std`` beside it."""
    summary: dict[str, float] = {}
    for key in runs[0]:
        values = np.array([run[key] for run in runs])
        if key in ("params", "model_bytes"):  # the same in every run
            summary[key] = int(values[0])
            continue
        summary[key] = float(values.mean())
        summary[f"{key}_std"] = float(values.std())
    summary["seeds"] = len(runs)
    return summary


def fig6_seed(
    run_index: int,
    *,
    teacher: NetworkPolicy,
    test: OffloadDataset,
    greedy: Policy,
    sizes: Sizes,
    seed: int,
    progress: bool,
) -> tuple[dict[str, dict[str, float]], dict[str, NetworkPolicy]]:
    """One Fig. 6 seed: its students, Baseline DIL and both DQNs trained on its own
    ``paper-kd`` samples, with everyone's figures on ``test``. Returns the figures, and
    for seed 0 the trained policies (Table 1 times them). Every stream is seeded from
    ``(seed, run_index)``, so a seed's numbers do not depend on where it runs."""
    pin_threads()

    def rng_for(name: str) -> np.random.Generator:
        # One stream per policy: adding or dropping a row leaves the others' numbers alone.
        return np.random.default_rng([seed, 6, run_index, zlib.crc32(name.encode())])

    kd_train = generate_dataset(
        sizes.n_kd_train, scenario="paper-kd", rng=np.random.default_rng([seed, 6, run_index])
    )
    log(
        f"Fig. 6 seed {run_index}: KD-DIL, Baseline DIL and both DQNs on {sizes.n_kd_train} paper-kd samples"
    )
    students: dict[str, Policy] = {}
    for name, (loss, augment) in KD_STUDENTS.items():
        students[name], _ = distill(
            teacher,
            config.STUDENT_HIDDEN,
            kd_train.states,
            # Synthetic states have only the teacher's labels; the 1K have the optimum's.
            labels=kd_train.decisions if augment == "none" else None,
            loss=loss,
            augment=augment,
            epochs=sizes.student_epochs,
            rng=rng_for(name),
            name=name,
            progress=progress,
        )
    students["baseline_dil"], _ = train_dil(
        kd_train,
        hidden=config.STUDENT_HIDDEN,
        epochs=sizes.student_epochs,
        batch_size=config.STUDENT_BATCH_SIZE,
        rng=rng_for("baseline_dil"),
        name="baseline_dil",
        progress=progress,
    )
    for formulation, key in (("sequential", "dqn"), ("joint", "dqn_joint")):
        students[key], _ = train_dqn(
            formulation,
            task_pool=kd_train.states,
            timesteps=sizes.dqn_kd_timesteps,
            rng=rng_for(key),
            name=f"{key}_1k",
            progress=progress,
        )
    evaluations = {
        name: evaluate(policy, test) for name, policy in {**students, "greedy": greedy}.items()
    }
    kept = {
        name: policy
        for name, policy in students.items()
        if run_index == 0 and isinstance(policy, NetworkPolicy)
    }
    return evaluations, kept


def run(
    sizes: Sizes,
    out: Path,
    *,
    seed: int = 0,
    progress: bool = True,
    executor: Executor = SEQUENTIAL,
) -> dict:
    """The whole reproduction; returns what ``results.json`` holds.

    Fig. 6's seeds are independent: ``executor`` (an :class:`~gym_mecoffload.executors.Executor`) spreads
    them over processes or Ray tasks (:func:`gym_mecoffload.executors.run_shards`; by
    default one after another in this process). Every figure but times is the same
    wherever they run.
    """
    pin_threads()  # torch and BLAS on one thread: Table 1 times every policy on one core
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    models = out / "models"
    log(f"data: {sizes.n_train} training and {sizes.n_test} test samples of the paper scenario")
    train = generate_dataset(sizes.n_train, scenario="paper", rng=rng)
    test = generate_dataset(sizes.n_test, scenario="paper", rng=rng)

    # Fig. 5 ------------------------------------------------------------------
    policies: dict[str, Policy] = {
        name: SolverPolicy(name) for name in ("optimal", "exhaustive", "greedy")
    }
    policies.update({name: SolverPolicy(name) for name in ("local", "edge", "cloud")})
    policies["random"] = RandomPolicy(np.random.default_rng(seed + 1))
    trained: dict[str, NetworkPolicy] = {}
    timings: dict[str, float] = {}

    log(f"DIL (5 x 256 multi-label BC, {sizes.dil_epochs} epochs)")
    trained["dil"], history = train_dil(train, epochs=sizes.dil_epochs, rng=rng, progress=progress)
    timings["dil"] = history.seconds
    log(
        f"DIL per subtask (BC on the optimal path, {sizes.dil_seq_epochs} epochs, DAgger {sizes.dagger_timesteps} steps)"
    )
    trained["dil_seq"], history = train_dil_sequential(
        train,
        epochs=sizes.dil_seq_epochs,
        dagger_timesteps=sizes.dagger_timesteps,
        rng=rng,
        progress=progress,
    )
    timings["dil_seq"] = history.seconds
    log(f"DQN per subtask on MecOffload-v0 ({sizes.dqn_timesteps} steps)")
    trained["dqn"], history = train_dqn(
        "sequential", timesteps=sizes.dqn_timesteps, rng=rng, progress=progress
    )
    timings["dqn"] = history.seconds
    log(f"DQN, one action per whole decision (3^6 actions, {sizes.dqn_joint_timesteps} steps)")
    trained["dqn_joint"], history = train_dqn(
        "joint", timesteps=sizes.dqn_joint_timesteps, rng=rng, progress=progress
    )
    timings["dqn_joint"] = history.seconds
    policies.update(trained)
    fig5 = {name: evaluate(policy, test) for name, policy in policies.items()}
    for name, seconds in timings.items():
        fig5[name]["train_seconds"] = seconds

    # Fig. 6 ------------------------------------------------------------------
    # The seeds are independent: each may run in another process or as a Ray task.
    seed_runs = run_parts(
        partial(
            fig6_seed,
            teacher=trained["dil"],
            test=test,
            greedy=policies["greedy"],
            sizes=sizes,
            seed=seed,
        ),
        range(sizes.seeds),
        executor=executor,
        progress=progress,
        label="Fig. 6 seeds",
    )
    per_seed: dict[str, list[dict[str, float]]] = {}
    for evaluations, _ in seed_runs:
        for name, figures in evaluations.items():
            per_seed.setdefault(name, []).append(figures)
    kd_policies = seed_runs[0][1]
    fig6 = {name: _summarise(runs) for name, runs in per_seed.items()}

    # Table 1 -----------------------------------------------------------------
    log(f"Table 1: decision delay on {sizes.online_tasks} tasks online and {sizes.n_test} batched")
    timed = {
        "kd_dil": kd_policies["kd_dil"],
        "dil": trained["dil"],
        "dil_seq": trained["dil_seq"],
        "dqn": trained["dqn"],
        "dqn_joint": trained["dqn_joint"],
        "greedy": policies["greedy"],
        "optimal": policies["optimal"],
        "exhaustive": policies["exhaustive"],
    }
    table1 = measure_delay(timed, test, online_tasks=sizes.online_tasks, progress=progress)

    for name, policy in {
        **trained,
        **{f"fig6_{k}_seed0": v for k, v in kd_policies.items()},
    }.items():
        policy.save(models / f"{name}.pt")
    results = {
        "settings": {
            "sizes": asdict(sizes),
            "seed": seed,
            "torch": torch.__version__,
            "seconds": 0.0,
        },
        "fig5": fig5,
        "fig6": fig6,
        "table1": table1,
        "paper": {"fig5": PAPER_FIG5, "table1_online_ratio": PAPER_TABLE1},
    }
    results["settings"]["seconds"] = time.perf_counter() - started
    write_json(out / "results.json", results)
    write_text(out / "results.md", render_markdown(results))
    from baselines.studies.plots import plot_all

    plot_all(results, out)
    log(f"done in {results['settings']['seconds']:.0f} s: {out / 'results.md'}")
    return results


def render_markdown(results: dict) -> str:
    """The three tables, each beside the paper's numbers."""
    sizes = results["settings"]["sizes"]
    fig5 = {
        name: {**figures, "paper": PAPER_FIG5.get(name)}
        for name, figures in results["fig5"].items()
    }
    fig6 = results["fig6"]
    table1 = {
        name: {**figures, "paper": PAPER_TABLE1.get(name)}
        for name, figures in results["table1"].items()
    }
    parts = [
        '# Reproduction of Chen et al., "Knowledge Distillation for Mobile Edge Computation Offloading"\n',
        f"Settings: {sizes}; seed {results['settings']['seed']}; "
        f"{results['settings']['seconds']:.0f} s.\n",
        f"## Fig. 5: latency normalised to Optimal = 1 ({sizes['n_train']} training, {sizes['n_test']} test samples)\n",
        markdown_table(
            fig5,
            [
                "mean_ratio",
                "ratio_of_means",
                "paper",
                "label_accuracy",
                "exact_match",
                "params",
                "train_seconds",
            ],
        ),
        f"## Fig. 6: {sizes['n_kd_train']} paper-kd training samples, Fig. 5 test set, "
        f"mean and std over {sizes['seeds']} seeds\n",
        markdown_table(
            fig6,
            [
                "mean_ratio",
                "mean_ratio_std",
                "ratio_of_means",
                "label_accuracy",
                "exact_match",
                "params",
            ],
        ),
        "## Table 1: decision delay per task, ratio to Greedy in the same run (paper: online ratio)\n",
        markdown_table(
            table1,
            [
                "online_us",
                "online_p90_us",
                "online_ratio",
                "online_numpy_us",
                "online_numpy_ratio",
                "online_single_us",
                "online_single_ratio",
                "batched_us",
                "batched_ratio",
                "batched_numpy_us",
                "paper",
                "params",
            ],
            digits=2,
        ),
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: the whole pipeline in a few minutes"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for results, plots and models"
    )
    parser.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    parser.add_argument(
        "--seeds", type=int, default=None, help="Fig. 6 repetitions (default 3; quick 2)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_executor_arguments(parser, "Fig. 6 seeds")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    if args.seeds is not None:
        if args.seeds < 1:
            parser.error(f"--seeds must be >= 1; got {args.seeds}")
        sizes = Sizes(**{**asdict(sizes), "seeds": args.seeds})
    return run(
        sizes,
        args.out,
        seed=args.seed,
        progress=not args.no_progress,
        executor=executor_from(parser, args),
    )


if __name__ == "__main__":
    main()
