"""DAG tasks, the paper's future work: ``python -m baselines.studies.dag [--quick] --out DIR``.

For n = 10, 20 and 30 subtasks, without and with contention, every policy places
the same seeded test DAGs (``generate_dags`` defaults on the paper's ranges):

* the expert (the MILP without contention; with contention the exact optimum by
  exhaustive search where n allows, else the best known), HEFT, local, edge,
  cloud and random, at every n;
* at ``learned`` sizes (n = 20 by default), the learned policies: ``dil_seq``
  (BC of the expert's placements, plus DAgger with the MILP expert in every
  state it visits, without contention), a sequential DQN, and a 2 x 32
  multi-label student distilled from ``dil_seq`` with the paper's softened
  labels (T = 5) on the teacher's training DAGs and fresh ones the teacher
  labels, which places a whole task in one forward pass.

Each policy's makespan is normalised by the expert's, and its online decision
delay (one task at a time, one thread) is measured, the MILP's included.
Writes ``DIR/results.json``, ``DIR/results.md`` and ``DIR/dag.png``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from imitation.algorithms import bc
from imitation.data import types
from stable_baselines3 import DQN
from torch import nn

from baselines import config
from baselines.dil import TrainingHistory, clone, fit
from baselines.evaluation import online_times_us, pin_threads
from baselines.networks import StandardizeExtractor, learn_quietly, observation_statistics
from baselines.policies import NetworkPolicy, Standardize, mlp
from baselines.studies.plots import dag_ratios
from baselines.studies.sweeps import add_executor_arguments, executor_from, log, run_parts
from gym_mecoffload.core.topology import N_PLACES
from gym_mecoffload.dag import DagBatch, cost
from gym_mecoffload.dag import solvers as dag_solvers
from gym_mecoffload.dag.data import DagDataset, generate_dag_dataset
from gym_mecoffload.dag.episodes import DagEpisode, DagEpisodes, DagSettings, Decide, rollout
from gym_mecoffload.dag.graphs import generate_dags
from gym_mecoffload.dag.observations import DagLayout
from gym_mecoffload.executors import EVERY_CORE, SEQUENTIAL, Executor
from gym_mecoffload.report import markdown_table, write_json, write_text

SIZES = (10, 20, 30)
HEURISTICS = ("heft", "local", "edge", "cloud", "random")
LEARNED = ("dil_seq", "dqn", "kd_student")
DIL_HIDDEN = (256, 256, 256)


@dataclass(frozen=True)
class Sizes:
    """Data and training budgets (``--quick`` shrinks everything); learned policies at
    n = 20 by default."""

    n_train: int = 8_000  # MILP-labelled training DAGs (about 9 ms each at n = 20, one core)
    # With contention the labels are the best known (MILP, HEFT and local search): dearer.
    n_train_contention: int = 2_000
    n_test: int = 300
    dil_epochs: int = 15
    # Without contention: the MILP labels every state the learner visits.
    dagger_rounds: int = 3
    dagger_tasks: int = 300  # per round: n MILPs each
    dqn_timesteps: int = 100_000
    student_epochs: int = 30
    # The student's tasks need no MILP: the teacher labels them (the paper's KD recipe),
    # so it sees these fresh DAGs besides the teacher's training set.
    student_tasks: int = 40_000
    delay_tasks: int = 30  # tasks timed one at a time per policy


QUICK = Sizes(
    n_train=60,
    n_train_contention=60,
    n_test=20,
    dil_epochs=2,
    dagger_rounds=1,
    dagger_tasks=6,
    dqn_timesteps=400,
    student_epochs=2,
    student_tasks=30,
    delay_tasks=3,
)


def _dataset(
    n: int, contention: bool, size: int, seed: int, progress: bool, labelling: Executor
) -> DagDataset:
    return generate_dag_dataset(
        size,
        n_subtasks=n,
        contention=contention,
        seed=seed,
        shard_size=16,
        progress=progress,
        executor=labelling,
    )


def _greedy(policy: NetworkPolicy) -> Decide:
    """A network's argmax place for each task's current subtask."""
    return lambda observations, _: policy.scores(observations).argmax(axis=1)


def _expert_path(data: DagDataset) -> Decide:
    rows = np.arange(len(data))
    return lambda _, episodes: data.decisions[rows, episodes.current].astype(np.int64)


def train_dil_dag(
    train: DagDataset, sizes: Sizes, rng: np.random.Generator, progress: bool
) -> tuple[NetworkPolicy, TrainingHistory, np.ndarray]:
    """``dil_seq``: BC of the expert's placements, then DAgger rounds without contention.

    Returns the policy, its history and every observation it was trained on (the
    student's states).
    """
    n = train.dags.n_subtasks
    settings = DagSettings.for_model(n, contention=train.contention)
    _, observations, actions = rollout(train.dags, _expert_path(train), settings, record=True)
    env = gym.make("MecOffloadDag-v0", n_subtasks=n, contention=train.contention)
    spaces = (env.observation_space, env.action_space)
    states = [observations]

    def dagger(trainer: bc.BC, _scratch: str, history: TrainingHistory) -> None:
        # Without contention the MILP answers in any state: the learner's own states get
        # the expert's next place. With contention the expert is too dear per state.
        if train.contention or sizes.dagger_rounds == 0:
            return
        seen, labels = [observations], [actions]
        visited: list[tuple[np.ndarray, np.ndarray]] = []  # the states of this round

        def learner(obs: np.ndarray, episodes: DagEpisodes | DagEpisode) -> np.ndarray:
            visited.append((episodes.places.copy(), episodes.current.copy()))
            with torch.no_grad():
                return trainer.policy.predict(obs, deterministic=True)[0]

        for _ in range(sizes.dagger_rounds):
            pick = rng.choice(len(train), size=min(sizes.dagger_tasks, len(train)), replace=False)
            dags = train.dags[pick]
            visited.clear()
            _, round_observations, _ = rollout(dags, learner, settings, record=True)
            round_labels = np.concatenate(
                [
                    dag_solvers.milp_next_place(dags, places, current, train.objective)
                    for places, current in visited
                ]
            )
            seen.append(round_observations)
            labels.append(round_labels)
            trainer.set_demonstrations(
                types.Transitions(
                    obs=np.concatenate(seen),
                    acts=np.concatenate(labels),
                    infos=np.array([{}] * sum(len(s) for s in seen)),
                    next_obs=np.concatenate(seen),
                    dones=np.zeros(sum(len(s) for s in seen), dtype=bool),
                )
            )
            fit(
                trainer,
                epochs=max(1, sizes.dil_epochs // 3),
                learning_rate=config.BC["learning_rate"] * 0.3,
                progress=progress,
                history=history,
            )
        states.extend(seen[1:])

    policy, history = clone(
        "dil_seq",
        "sequential",
        observations,
        actions,
        n_subtasks=n,
        hidden=DIL_HIDDEN,
        epochs=sizes.dil_epochs,
        batch_size=config.BC["batch_size"],
        learning_rate=config.BC["learning_rate"],
        rng=rng,
        progress=progress,
        then=dagger,
        spaces=spaces,
    )
    return policy, history, np.concatenate(states)


def distill_student(
    teacher: NetworkPolicy,
    dags: DagBatch,
    settings: DagSettings,
    sizes: Sizes,
    rng: np.random.Generator,
) -> tuple[NetworkPolicy, float]:
    """The paper's KD (Sec. 4) into its multi-label form: a 2 x 32 student that places
    every subtask in one forward pass of the task's static features (no schedule to
    simulate online). Head v learns the teacher's labels at the step it placed v on its
    own rollout, softened as ``q = softmax(ln p / T)``, T = ``config.TEMPERATURE``."""
    started = time.perf_counter()
    torch.manual_seed(int(rng.integers(2**31)))
    size, n = len(dags), dags.n_subtasks
    rows = np.arange(size)
    targets = np.zeros((size, n, N_PLACES), dtype=np.float32)

    def teacher_step(observations: np.ndarray, episodes: DagEpisodes | DagEpisode) -> np.ndarray:
        logits = teacher.scores(observations)
        # ln p = logits - logsumexp: the shift cancels in the softmax, so q = softmax(logits / T).
        scaled = logits / config.TEMPERATURE
        scaled = np.exp(scaled - scaled.max(axis=1, keepdims=True))
        targets[rows, episodes.current] = scaled / scaled.sum(axis=1, keepdims=True)
        return logits.argmax(axis=1)

    rollout(dags, teacher_step, settings)
    static = DagLayout(n).static_part(dags)
    x, target = torch.from_numpy(static), torch.from_numpy(targets)
    hidden = mlp(static.shape[1], config.STUDENT_HIDDEN, n * N_PLACES)
    net = nn.Sequential(Standardize.fit(static), *hidden)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.BC["learning_rate"])
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    for _ in range(sizes.student_epochs):
        for batch in torch.randperm(size, generator=generator).split(config.STUDENT_BATCH_SIZE):
            logits = net(x[batch]).reshape(len(batch), n, N_PLACES) / config.TEMPERATURE
            loss = -(target[batch] * torch.log_softmax(logits, dim=2)).sum(dim=(1, 2)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    student = NetworkPolicy("kd_student", net, "multilabel", n)
    return student, time.perf_counter() - started


def student_decisions(student: NetworkPolicy, dags: DagBatch) -> np.ndarray:
    """Every subtask's place (N, n) from one forward pass of the static features."""
    static = DagLayout(dags.n_subtasks).static_part(dags)
    return student.scores(static).reshape(len(dags), dags.n_subtasks, N_PLACES).argmax(axis=2)


def train_dqn_dag(
    n: int,
    contention: bool,
    states: np.ndarray,
    sizes: Sizes,
    rng: np.random.Generator,
    progress: bool,
) -> tuple[NetworkPolicy, float]:
    """SB3's DQN (``config.DQN``) on ``MecOffloadDag-v0``: seconds of makespan as rewards."""
    seed = int(rng.integers(2**31))
    env = gym.make("MecOffloadDag-v0", n_subtasks=n, contention=contention)
    env.reset(seed=seed)
    statistics = observation_statistics(states, states.shape[1])
    model = DQN(
        "MlpPolicy",
        env,
        **config.DQN,
        policy_kwargs={
            "net_arch": list(config.DQN_HIDDEN),
            "features_extractor_class": StandardizeExtractor,
            "features_extractor_kwargs": statistics,
        },
        seed=seed,
        device="cpu",
        verbose=0,
    )
    seconds = learn_quietly(model, sizes.dqn_timesteps, progress=progress)
    q_net = model.q_net
    net = nn.Sequential(q_net.features_extractor.standardize, *q_net.q_net).cpu()
    return NetworkPolicy("dqn", net, "sequential", n), seconds


def _delay_ms(decide_one: Callable[[DagBatch], object], singles: list[DagBatch]) -> float:
    """Median milliseconds to decide one task (tasks sliced beforehand, one at a time)."""
    return float(np.median(online_times_us(decide_one, singles)) / 1e3)


def run_setting(
    n: int,
    contention: bool,
    sizes: Sizes,
    *,
    learn: bool,
    seed: int = 0,
    progress: bool = True,
    labelling: Executor = EVERY_CORE,
) -> dict[str, dict[str, float]]:
    """Every policy's normalised makespan and online delay at one (n, contention)."""
    test = _dataset(n, contention, sizes.n_test, 1000 * n + 1, progress, labelling)
    settings = DagSettings.for_model(n, contention=contention)
    rng = np.random.default_rng([seed, n, int(contention)])
    decisions = {
        "expert": test.decisions.astype(np.int64),
        "heft": dag_solvers.heft(test.dags, contention=contention),
        "local": dag_solvers.local(test.dags),
        "edge": dag_solvers.edge(test.dags),
        "cloud": dag_solvers.cloud(test.dags),
        "random": dag_solvers.random(test.dags, rng),
    }
    singles = [test.dags[i] for i in range(min(sizes.delay_tasks, len(test)))]
    delays = {
        "expert": _delay_ms(dag_solvers.solve_milp, singles),
        "heft": _delay_ms(lambda task: dag_solvers.heft(task, contention=contention), singles),
    }
    seconds: dict[str, float] = {}
    if learn:
        n_train = sizes.n_train_contention if contention else sizes.n_train
        log(f"n={n}, contention={contention}: labelling {n_train} training DAGs")
        train = _dataset(n, contention, n_train, 1000 * n + 2, progress, labelling)
        log("training dil_seq")
        dil, history, states = train_dil_dag(train, sizes, rng, progress)
        log("distilling the 2 x 32 student")
        fresh = generate_dags(sizes.student_tasks, n_subtasks=n, rng=rng)
        student_dags = DagBatch.concatenate([train.dags, fresh])
        student, seconds["kd_student"] = distill_student(dil, student_dags, settings, sizes, rng)
        log("training DQN")
        dqn, seconds["dqn"] = train_dqn_dag(n, contention, states, sizes, rng, progress)
        seconds["dil_seq"] = history.seconds
        for policy in (dil, dqn):
            fast = policy.with_backend("numpy")
            decisions[policy.name] = rollout(test.dags, _greedy(fast), settings)[0]
            delays[policy.name] = _delay_ms(
                lambda task, fast=fast: rollout(task, _greedy(fast), settings), singles
            )
        fast_student = student.with_backend("numpy")
        decisions["kd_student"] = student_decisions(fast_student, test.dags)
        delays["kd_student"] = _delay_ms(
            lambda task: student_decisions(fast_student, task), singles
        )
    figures = {}
    for name, chosen in decisions.items():
        values = cost(test.dags, chosen, test.objective, contention=contention)
        figures[name] = {
            "mean_ratio": float(np.mean(values / test.costs)),
            "ratio_of_means": float(values.sum() / test.costs.sum()),
            "over_lower_bound": float(np.mean(values / test.lower_bound)),
        }
        if name in delays:
            figures[name]["online_ms"] = delays[name]
            figures[name]["speedup_vs_milp"] = delays["expert"] / delays[name]
        if name in seconds:
            figures[name]["train_seconds"] = seconds[name]
    figures["expert"]["exact"] = float(test.exact.mean())
    return figures


def _label(n: int, contention: bool) -> str:
    """A setting's row name in the results."""
    return f"n={n}, {'contention' if contention else 'no contention'}"


def _run_part(
    part: tuple[int, bool, bool], sizes: Sizes, progress: bool, labelling: Executor
) -> dict[str, dict[str, float]]:
    # One setting, wherever it runs: torch on one thread, as in the local run.
    pin_threads()
    n, contention, learn = part
    log(_label(n, contention))
    return run_setting(n, contention, sizes, learn=learn, progress=progress, labelling=labelling)


def run(
    out: Path,
    *,
    sizes: Sizes,
    learned: tuple[int, ...] = (20,),
    progress: bool = True,
    executor: Executor = SEQUENTIAL,
) -> dict[str, dict[str, dict[str, float]]]:
    """The whole study: n = 10, 20, 30, without and with contention.

    The six settings are independent: ``executor`` (an :class:`~gym_mecoffload.executors.Executor`)
    spreads them over processes or Ray tasks (by default one after another in this
    process, each labelling on every core). On Ray, each setting's labelling runs as
    Ray tasks too. Every figure but seconds and delays is the same wherever they run.
    """
    pin_threads()
    unknown = sorted(set(learned) - set(SIZES))
    if unknown:
        raise ValueError(f"learned sizes must be among {SIZES}; got {unknown}")
    started = time.perf_counter()
    parts = [(n, contention, n in learned) for n in SIZES for contention in (False, True)]
    if executor.name == "ray":
        labelling = Executor("ray", None, executor.address)  # nested Ray tasks, same cluster
    elif executor.in_process:
        labelling = EVERY_CORE  # as before
    else:
        labelling = SEQUENTIAL  # the parts already fill the cores
    rows = run_parts(
        partial(_run_part, sizes=sizes, labelling=labelling),
        parts,
        executor=executor,
        progress=progress,
        label="DAG settings",
    )
    results = {
        _label(n, contention): row for (n, contention, _), row in zip(parts, rows, strict=True)
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(
        out / "results.json",
        {"seconds": time.perf_counter() - started, "sizes": vars(sizes), "results": results},
    )
    write_text(out / "results.md", report(results))
    dag_ratios(results, ("heft", "local", "edge", "cloud", "random", *LEARNED), out / "dag.png")
    return results


def report(results: dict[str, dict[str, dict[str, float]]]) -> str:
    names = ["expert", *HEURISTICS, *LEARNED]
    sections = []
    for metric, title in (
        (
            "mean_ratio",
            "Makespan / the expert's (mean of ratios; the expert is the best known with contention at n > 9)",
        ),
        ("over_lower_bound", "Makespan / the no-contention optimum (a lower bound)"),
        ("online_ms", "Online delay per task, ms (one task at a time, one thread; median)"),
    ):
        rows = {
            label: {name: figures[metric] for name, figures in row.items() if metric in figures}
            for label, row in results.items()
        }
        shown = [name for name in names if any(name in row for row in rows.values())]
        sections.append(f"### {title}\n\n" + markdown_table(rows, shown, first="setting"))
    return "\n\n".join(sections) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--no-progress", action="store_true")
    add_executor_arguments(parser, "six settings")
    args = parser.parse_args()
    results = run(
        args.out,
        sizes=QUICK if args.quick else Sizes(),
        progress=not args.no_progress,
        executor=executor_from(parser, args),
    )
    print(report(results))


if __name__ == "__main__":
    main()
