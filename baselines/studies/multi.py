"""Learning to offload among many users: ``python -m baselines.studies.multi [--quick] --out DIR``.

Settings (SPEC-MULTI; :data:`SETTINGS`):

* ``tiny``: the exact tier (U = 2, S = 2, T = 6); the teacher is ``exact``;
* ``load 0.5`` and ``load 0.8``: the ``"multi"`` preset (U = 10, S = 3) with the arrival
  probability set so that the load (offered cycles per second over the servers' mean
  capacity, :meth:`MultiScenario.load`) is 0.5 or 0.8; the teacher is ``rollout``;
* ``U=50, S=5``: fifty users, five servers, load 0.8; the teacher is ``dpp`` (the rollout
  costs about 40 ms per task at U = 10 and grows with U: beyond this study's budget);
* ``aoi``: load 0.8 with ``objective="aoi"``, two priority classes and outages (q = 0.1);
  the teacher is ``rollout``.

On each: the teacher, ``myopic``, ``dpp``, the heuristics, and the learners, each trained
with several seeds: ``dil`` (BC of the teacher, then DAgger, one network shared by the
users on each user's local observation), ``dil_central`` (the same labels, a dispatcher
placing the slot's tasks one at a time from what the earlier placements left and what each
place would cost: :func:`baselines.multiuser.position_features`), ``kd_student`` (the 2 x 32
network on the device's local observation, distilled from ``dil_central`` with the paper's
softened labels, no expert), SB3's ``ppo``
and ``dqn`` (shared parameters, the same number of user-decisions each). Every policy plays
the same seeded test episodes, drawn from a stream no learner trains on. Figures: the
cost per task (the objective's unit; class-weighted seconds for latency) with a 95%
interval (the two-level bootstrap of :mod:`baselines.studies.intervals` over seeds and
test episodes), mean and 95th-percentile latency, misses and drops per 1,000 tasks, the
ratio to the teacher and to the reference (``exact`` on the tiny tier; the ``hindsight``
MILP's proved lower bound on a few test episodes elsewhere), and the online decision time
per task (one system's slot at a time, one thread). Writes ``DIR/results.json``,
``DIR/results.md``, ``DIR/load.png`` (cost against load) and ``DIR/latency.png`` (the
latency distribution at load 0.8). RLlib's multi-agent PPO joins the tables from its own
venv: ``examples/rllib_multi.py --study DIR`` then ``python -m baselines.multi --out DIR
--report`` (:func:`with_rllib`).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from baselines.evaluation import evaluate_multi, pin_threads
from baselines.studies.intervals import confidence_interval
from baselines.studies.sweeps import add_executor_arguments, executor_from, log, run_parts
from gym_mecoffload.executors import SEQUENTIAL, Executor
from gym_mecoffload.multi.exact import ExactExpert
from gym_mecoffload.multi.experts import HEURISTICS, Rollout, make_policy
from gym_mecoffload.multi.hindsight import hindsight
from gym_mecoffload.multi.model import MultiScenario, draw_episodes, make_scenario
from gym_mecoffload.report import markdown_table, write_json, write_text

LEARNERS = ("dil", "dil_central", "kd_student", "ppo", "dqn")
RLLIB = "rllib_ppo"  # added by examples/rllib_multi.py --study DIR (its own venv)
FIXED = ("myopic", "dpp", *HEURISTICS)
TEST_SEED = 987_654  # the test episodes' stream; training draws from the seeds' own
LOADS = (0.5, 0.8)


@dataclass(frozen=True)
class Setting:
    """One scenario of the study, its objective and its teacher."""

    label: str
    scenario: MultiScenario
    objective: str
    teacher: str  # "exact", "rollout" or a name of experts.make_policy

    @property
    def reward_mode(self) -> str:
        """The RL learners' reward (SB3's and RLlib's alike): each task's latency over its
        best alone for the latency objective, the objective's own cost otherwise."""
        return "relative" if self.objective == "latency" else "absolute"


def with_load(load: float, **changes: Any) -> MultiScenario:
    """The ``"multi"`` preset (with ``changes``) at ``load``, by its arrival probability."""
    base = make_scenario("multi", **changes)
    return base.with_options(
        arrival_probability=load * 0.5 / base.with_options(arrival_probability=0.5).load()
    )


def settings(horizon: int | None = None) -> list[Setting]:
    """The study's settings (module doc); ``horizon`` shortens the multi-user ones."""
    cut = {} if horizon is None else {"horizon": horizon}
    return [
        Setting("tiny", make_scenario("tiny"), "latency", "exact"),
        *(Setting(f"load {load}", with_load(load, **cut), "latency", "rollout") for load in LOADS),
        Setting("U=50, S=5", with_load(0.8, users=50, servers=5, **cut), "latency", "dpp"),
        Setting("aoi", with_load(0.8, outage_probability=0.1, **cut), "aoi", "rollout"),
    ]


@dataclass(frozen=True)
class Sizes:
    """Data and training budgets (user-decisions for SB3; episodes elsewhere)."""

    seeds: int = 3
    teacher_episodes: int = 24  # BC data: the teacher's own episodes
    exact_teacher_episodes: int = 600  # on the tiny tier, where a label is a table look-up
    dagger_rounds: int = 1
    dagger_episodes: int = 12
    bc_epochs: int = 20
    kd_episodes: int = 192
    kd_epochs: int = 30
    sb3_timesteps: int = 200_000
    test_episodes: int = 50
    tiny_test_episodes: int = 10_000  # the tiny tier's target is over 10,000 episodes
    hindsight_episodes: int = 3
    hindsight_seconds: float = 20.0
    rollout_samples: int = 4
    rollout_lookahead: int = 4
    horizon: int | None = None  # None: each preset's own


QUICK = Sizes(
    seeds=2,
    teacher_episodes=4,
    exact_teacher_episodes=8,
    dagger_rounds=1,
    dagger_episodes=2,
    bc_epochs=4,
    kd_episodes=4,
    kd_epochs=4,
    sb3_timesteps=3_000,
    test_episodes=6,
    tiny_test_episodes=200,
    hindsight_episodes=1,
    hindsight_seconds=2.0,
    rollout_samples=2,
    rollout_lookahead=1,
    horizon=6,
)


def chosen_settings(horizon: int | None, only: tuple[str, ...] | None) -> list[Setting]:
    """The settings labelled in ``only`` (all if None), in the study's order; an unknown
    label is a ValueError naming the known ones."""
    chosen = settings(horizon)
    if only is not None:
        known = [s.label for s in chosen]
        unknown = sorted(set(only) - set(known))
        if unknown:
            raise ValueError(f"unknown settings {unknown}; known: {known}")
        chosen = [s for s in chosen if s.label in only]
    return chosen


def evaluation_episodes(setting: Setting, sizes: Sizes) -> int:
    """How many test episodes every policy plays on ``setting`` (the tiny tier's target is
    over 10,000)."""
    return sizes.tiny_test_episodes if setting.teacher == "exact" else sizes.test_episodes


def teacher_of(setting: Setting, sizes: Sizes, seed: int) -> Any:
    if setting.teacher == "exact":
        return ExactExpert(setting.scenario)
    if setting.teacher == "rollout":
        return Rollout(samples=sizes.rollout_samples, lookahead=sizes.rollout_lookahead, seed=seed)
    return make_policy(setting.teacher)


def run_setting(setting: Setting, sizes: Sizes, progress: bool = False) -> dict[str, Any]:
    """Every policy on one setting: per policy, per seed, the per-episode figures."""
    pin_threads()
    sc, objective = setting.scenario, setting.objective
    # torch, SB3 and imitation where the learners train: RLlib's venv (without SB3 and
    # imitation) reads the settings and the sizes (examples/rllib_multi.py --study).
    from baselines.multiuser import distill_student, train_dil, train_sb3

    test = partial(
        evaluate_multi,
        scenario=sc,
        episodes=evaluation_episodes(setting, sizes),
        seed=TEST_SEED,
        objective=objective,
    )
    started = time.perf_counter()
    out: dict[str, Any] = {"load": sc.load(), "teacher": setting.teacher, "policies": {}}
    teacher = teacher_of(setting, sizes, seed=1)
    log(f"{setting.label}: the teacher ({setting.teacher}) and the fixed policies")
    out["policies"][setting.teacher] = [test(teacher).figures()]
    for name in FIXED:
        if name != setting.teacher:
            out["policies"][name] = [test(make_policy(name)).figures()]
    for name in LEARNERS:
        out["policies"][name] = []
    seconds: dict[str, float] = {name: 0.0 for name in LEARNERS}
    exact = setting.teacher == "exact"
    bc_episodes = sizes.exact_teacher_episodes if exact else sizes.teacher_episodes
    for seed in range(sizes.seeds):
        rng = np.random.default_rng([seed, 1])
        learned = {}
        for k, (name, view) in enumerate((("dil", "local"), ("dil_central", "central"))):
            log(f"{setting.label}: seed {seed}, {name}")
            # exact: one solve serves every learner; the others are seeded per learner.
            expert = teacher if exact else teacher_of(setting, sizes, seed=100 * (1 + k) + seed)
            learned[name], history = train_dil(
                sc,
                expert,
                episodes=bc_episodes,
                dagger_rounds=sizes.dagger_rounds,
                dagger_episodes=bc_episodes * sizes.dagger_episodes // sizes.teacher_episodes,
                epochs=sizes.bc_epochs,
                rng=rng,
                name=name,
                objective=objective,
                view=view,
                progress=progress,
            )
            seconds[name] += history.seconds
        # The on-device student learns from the central teacher, seeing only its local view.
        learned["kd_student"], history = distill_student(
            learned["dil_central"],
            sc,
            episodes=sizes.kd_episodes,
            epochs=sizes.kd_epochs,
            rng=rng,
            objective=objective,
        )
        seconds["kd_student"] += history.seconds
        for algorithm in ("ppo", "dqn"):
            log(f"{setting.label}: seed {seed}, {algorithm}")
            learned[algorithm], history = train_sb3(
                sc,
                algorithm,
                timesteps=sizes.sb3_timesteps,
                reward_mode=setting.reward_mode,
                objective=objective,
                rng=rng,
            )
            seconds[algorithm] += history.seconds
        for name, policy in learned.items():
            out["policies"][name].append(test(policy).figures())
    out["train_seconds"] = {name: s / sizes.seeds for name, s in seconds.items()}
    out["reference"] = _reference(setting, sizes, teacher)
    out["seconds"] = time.perf_counter() - started
    return out


def _reference(setting: Setting, sizes: Sizes, teacher: Any) -> dict[str, Any]:
    """The best-known cost of the test episodes: ``exact``'s expectation on the tiny tier;
    elsewhere the hindsight MILP's proved lower bound on the first few test episodes."""
    if setting.teacher == "exact":
        return {"kind": "exact expected cost per episode", "value": teacher.expected_cost()}
    if setting.objective != "latency" or sizes.hindsight_episodes == 0:
        return {"kind": "none"}
    episodes = draw_episodes(
        setting.scenario, sizes.test_episodes, np.random.default_rng(TEST_SEED)
    )
    bounds, tasks = [], []
    for b in range(min(sizes.hindsight_episodes, sizes.test_episodes)):
        result = hindsight(
            setting.scenario, episodes, b, "latency", time_limit=sizes.hindsight_seconds
        )
        bounds.append(result.lower_bound)
        tasks.append(max(result.tasks, 1))
    return {
        "kind": "hindsight lower bound per task",
        "episodes": len(bounds),
        "value": [b / n for b, n in zip(bounds, tasks, strict=True)],
    }


def summary(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per policy: the mean of each figure, the cost's 95% interval, and its ratios."""
    policies = result["policies"]
    teacher = np.mean(policies[result["teacher"]][0]["cost"])
    out = {}
    for name, runs in policies.items():
        costs = np.array([run["cost"] for run in runs])  # (seeds, test episodes)
        mean, low, high = confidence_interval(costs)
        row = {
            "cost": mean,
            "ci_low": low,
            "ci_high": high,
            "over_teacher": mean / teacher,
            "latency_mean": float(np.mean([run["latency_mean"] for run in runs])),
            "latency_p95": float(np.mean([run["latency_p95"] for run in runs])),
            "misses_per_1000": float(np.mean([run["misses_per_1000"] for run in runs])),
            "drops_per_1000": float(np.mean([run["drops_per_1000"] for run in runs])),
            "microseconds_per_task": float(np.mean([run["microseconds_per_task"] for run in runs])),
        }
        reference = result["reference"]
        if reference["kind"].startswith("hindsight"):
            k = reference["episodes"]
            row["over_hindsight_bound"] = float(np.mean(costs[:, :k]) / np.mean(reference["value"]))
        out[name] = row
    return out


def report(results: dict[str, dict[str, Any]]) -> str:
    """Markdown: per setting, every policy's figures."""
    sections = []
    columns = (
        "cost", "ci_low", "ci_high", "over_teacher", "over_hindsight_bound", "latency_mean",
        "latency_p95", "misses_per_1000", "drops_per_1000", "microseconds_per_task",
    )  # fmt: skip
    for label, result in results.items():
        rows = summary(result)
        shown = [c for c in columns if any(c in row for row in rows.values())]
        table = markdown_table(
            {n: {c: r.get(c, float("nan")) for c in shown} for n, r in rows.items()},
            shown,
            first="policy",
        )
        sections.append(
            f"### {label} (load {result['load']:.2f}, teacher {result['teacher']}, "
            f"{result['seconds']:.0f} s)\n\n{table}"
        )
    return "\n\n".join(sections) + "\n"


def plot(results: dict[str, dict[str, Any]], out: Path) -> list[Path]:
    """``load.png``: each policy's cost per task against the load; ``latency.png``: the
    per-episode mean latencies at load 0.8 (a box per policy)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    paths = []
    loads = [label for label in results if label.startswith("load ")]
    if loads:
        figure, ax = plt.subplots(figsize=(7, 4))
        names = list(results[loads[0]]["policies"])
        colours = plt.get_cmap("tab20").colors
        for k, name in enumerate(names):
            x = [results[label]["load"] for label in loads]
            y = [summary(results[label])[name]["cost"] for label in loads]
            learner = name in (*LEARNERS, RLLIB)
            ax.plot(
                x,
                y,
                marker="s" if learner else "o",
                linestyle="--" if learner else "-",
                color=colours[k % len(colours)],
                label=name,
            )
        ax.set_xlabel("load (offered cycles / edge capacity)")
        ax.set_ylabel("cost per task (class-weighted s)")
        ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=2, title="dashed: learned", title_fontsize=7)
        figure.tight_layout()
        paths.append(out / "load.png")
        figure.savefig(paths[-1], dpi=120)
        plt.close(figure)
        last = results[loads[-1]]["policies"]
        figure, ax = plt.subplots(figsize=(8, 4))
        data = [np.concatenate([run["latency_mean"] for run in last[name]]) for name in names]
        ax.boxplot(data, tick_labels=names)
        ax.set_ylabel("mean latency per test episode (s)")
        ax.set_yscale("log")
        ax.tick_params(axis="x", rotation=45)
        figure.tight_layout()
        paths.append(out / "latency.png")
        figure.savefig(paths[-1], dpi=120)
        plt.close(figure)
    return paths


def with_rllib(results: dict[str, dict[str, Any]], out: Path) -> dict[str, dict[str, Any]]:
    """``results`` with RLlib's PPO from ``out/rllib.json`` where it has run (as a policy
    :data:`RLLIB` of those settings); refused if it played other test episodes."""
    path = out / "rllib.json"
    if not path.exists():
        return results
    rllib = json.loads(path.read_text())["results"]
    merged = {}
    for label, result in results.items():
        if label not in rllib:
            merged[label] = result
            continue
        runs = rllib[label]["runs"]
        episodes = len(result["policies"][result["teacher"]][0]["cost"])
        if any(len(run["cost"]) != episodes for run in runs):
            raise ValueError(
                f"{path}: {label!r} played other test episodes than the study ({episodes}); "
                "rerun examples/rllib_multi.py --study on this study"
            )
        merged[label] = {
            **result,
            "policies": {**result["policies"], RLLIB: runs},
            "train_seconds": {**result["train_seconds"], RLLIB: rllib[label]["train_seconds"]},
        }
    return merged


def write_report(results: dict[str, dict[str, Any]], out: Path) -> None:
    """``out/results.md`` and the plots of ``results``."""
    write_text(out / "results.md", report(results))
    plot(results, out)


def run(
    out: Path,
    *,
    sizes: Sizes,
    only: tuple[str, ...] | None = None,
    progress: bool = True,
    executor: Executor = SEQUENTIAL,
) -> dict[str, dict[str, Any]]:
    """The whole study (the settings in ``only``, or all), the settings spread over
    ``executor``; writes the results, the report and the plots into ``out``."""
    chosen = chosen_settings(sizes.horizon, only)
    started = time.perf_counter()
    parts = run_parts(
        partial(run_setting, sizes=sizes),
        chosen,
        executor=executor,
        progress=progress,
        label="multi-user settings",
    )
    results = {s.label: r for s, r in zip(chosen, parts, strict=True)}
    out.mkdir(parents=True, exist_ok=True)
    write_json(
        out / "results.json",
        {"seconds": time.perf_counter() - started, "sizes": asdict(sizes), "results": results},
    )
    results = with_rllib(results, out)
    write_report(results, out)
    return results


def report_again(out: Path) -> dict[str, dict[str, Any]]:
    """Rewrite ``out``'s report and plots from its ``results.json`` and, where it has run,
    RLlib's ``rllib.json``."""
    results = with_rllib(json.loads((out / "results.json").read_text())["results"], out)
    write_report(results, out)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the results")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument(
        "--seeds", type=int, default=None, help="training seeds per learner (default 3)"
    )
    parser.add_argument("--only", nargs="+", default=None, help="run only these settings (labels)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--report",
        action="store_true",
        help="only rewrite the report and plots of --out (with RLlib's rllib.json if there)",
    )
    add_executor_arguments(parser, "settings")
    args = parser.parse_args()
    if args.report:
        if not (args.out / "results.json").is_file():
            parser.error(f"--report: no results.json in {args.out}")
        print(report(report_again(args.out)))
        return
    sizes = QUICK if args.quick else Sizes()
    if args.seeds is not None:
        if args.seeds < 1:
            parser.error(f"--seeds must be >= 1; got {args.seeds}")
        sizes = replace(sizes, seeds=args.seeds)
    results = run(
        args.out,
        sizes=sizes,
        only=None if args.only is None else tuple(args.only),
        progress=not args.no_progress,
        executor=executor_from(parser, args),
    )
    print(report(results))


if __name__ == "__main__":
    main()
