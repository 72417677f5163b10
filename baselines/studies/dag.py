"""DAG tasks, the paper's future work:
``python -m baselines.studies.dag [--quick] [--seeds N] [--train-mixture] --out DIR``.

For n = 10, 20 and 30 subtasks, without and with contention, every policy places
the same seeded test DAGs (``generate_dags`` defaults on the paper's ranges):

* the expert (the MILP without contention; with contention the exact optimum by
  exhaustive search where n allows, else the best known), HEFT, local, edge,
  cloud and random, at every n;
* at ``learned`` sizes (n = 20 by default), the learned policies, trained once per
  seed (``--seeds``, 3 by default; each seed has its own training DAGs and random
  streams, and seed 0 has the training DAGs of the earlier single-seed study):
  ``dil_seq`` (BC of the expert's placements, plus DAgger with the MILP expert in
  every state it visits, without contention), a sequential DQN, and a 2 x 32
  multi-label student distilled from ``dil_seq`` with the paper's softened labels
  (T = 5) on the teacher's training DAGs and fresh ones the teacher labels, which
  places a whole task in one forward pass;
* with ``--train-mixture`` (always on with ``--quick``, so that the code path is
  tested), ``dil_seq_mix`` and ``kd_student_mix``: the same two recipes without
  contention, with the same budgets split into equal thirds drawn from the default
  generator settings and the two shifted ones below.

Each policy's makespan is divided by the expert's. Every figure is a mean with a
95% interval. For the learners it is a two-level bootstrap: 2,000 resamples of the
seeds, then of the test DAGs, one draw for all the drawn seeds since they all place
the same test set (:func:`bootstrap_means`). For the expert and the heuristics,
which are deterministic, it is a bootstrap over the test DAGs.

The learners trained without contention are also tested off their training
distribution: on denser and narrower graphs (density 0.9, fat 0.3), on sparser and
wider ones (density 0.2, fat 0.8), and on smaller n padded with empty subtasks
(``pad_dags``, which keeps every cost). Larger n do not fit their observation. On
each shifted row, each learner is called worse, not worse or undecided against the
best heuristic there (HEFT or local) by comparing intervals. Each target is stated
against its interval as met, missed or undecided. Seed 0's policies are timed
online (one task at a time, one thread), as is the MILP.

Writes ``DIR/results.json``, ``DIR/results.md`` and ``DIR/dag.png``. The JSON holds,
per policy and setting, ``mean_ratio`` (the mean), ``ci_low``, ``ci_high`` and
``per_seed``, plus the generalisation table, the targets and each part's seconds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

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
from baselines.studies.intervals import (
    BOOTSTRAP_SEED,
    LEVEL,
    RESAMPLES,
    confidence_interval,
)
from baselines.studies.plots import dag_ratios
from baselines.studies.sweeps import add_executor_arguments, executor_from, log, run_parts
from gym_mecoffload.core.topology import N_PLACES
from gym_mecoffload.dag import DagBatch, cost
from gym_mecoffload.dag import solvers as dag_solvers
from gym_mecoffload.dag.data import DagDataset, generate_dag_dataset
from gym_mecoffload.dag.episodes import (
    DagEpisode,
    DagEpisodes,
    DagSettings,
    Decide,
    pad_dags,
    rollout,
)
from gym_mecoffload.dag.graphs import generate_dags
from gym_mecoffload.dag.observations import DagLayout
from gym_mecoffload.executors import EVERY_CORE, SEQUENTIAL, Executor
from gym_mecoffload.report import markdown_table, write_json, write_text

SIZES = (10, 20, 30)
HEURISTICS = ("heft", "local", "edge", "cloud", "random")
LEARNED = ("dil_seq", "dqn", "kd_student")
# Trained on the mixture of generator settings (--train-mixture), without contention.
MIXTURE = ("dil_seq_mix", "kd_student_mix")
DIL_HIDDEN = (256, 256, 256)
SEEDS = 3  # training seeds per learner
# The heuristics the learners must not fall behind off their training distribution.
BEST_HEURISTICS = ("heft", "local")
# The targets in distribution (n = 20, no contention): makespan over the expert's.
TARGETS = {"dil_seq": 1.05, "kd_student": 1.10, "dil_seq_mix": 1.05, "kd_student_mix": 1.10}
UNDECIDED = "undecided (the interval straddles the target)"


@dataclass(frozen=True)
class Sizes:
    """Data and training budgets per seed (``--quick`` shrinks everything); learned
    policies at n = 20 by default."""

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


@dataclass(frozen=True)
class Graphs:
    """The generator's shape (daggen's density and fat) of a family of DAGs, and where its
    data's seeds lie at n subtasks: ``1000 n + test_offset`` for the test set and
    ``1000 n + train_offset + 10 seed`` for a seed's training DAGs (never the same)."""

    name: str
    density: float = 0.5
    fat: float = 0.5
    test_offset: int = 1
    train_offset: int = 2

    def describe(self) -> str:
        """``density 0.9, fat 0.3``."""
        return f"density {self.density}, fat {self.fat}"


DEFAULT_GRAPHS = Graphs("default")
SHIFTS = (
    Graphs("denser and narrower", density=0.9, fat=0.3, test_offset=3, train_offset=5),
    Graphs("sparser and wider", density=0.2, fat=0.8, test_offset=4, train_offset=6),
)
MIXED = (DEFAULT_GRAPHS, *SHIFTS)  # the mixture's thirds


@dataclass(frozen=True)
class Setting:
    """Where policies are tested: n subtasks, without or with contention, which graphs."""

    n: int
    contention: bool
    graphs: Graphs = DEFAULT_GRAPHS

    @property
    def label(self) -> str:
        """Its key in the results: ``n=20, no contention``, with the graphs' name if shifted."""
        label = f"n={self.n}, {'contention' if self.contention else 'no contention'}"
        return label if self.graphs == DEFAULT_GRAPHS else f"{label}, {self.graphs.name}"


@dataclass(frozen=True)
class Training:
    """One seed's learners at (n, contention): ``dil_seq``, ``dqn`` and ``kd_student``,
    or with ``mixture`` (no contention only) ``dil_seq_mix`` and ``kd_student_mix``."""

    n: int
    contention: bool
    seed: int
    mixture: bool = False

    @property
    def label(self) -> str:
        """``n=20, no contention, seed 1`` (``, mixture`` for the mixture)."""
        label = f"{Setting(self.n, self.contention).label}, seed {self.seed}"
        return f"{label}, mixture" if self.mixture else label

    @property
    def generators(self) -> tuple[Graphs, ...]:
        """The graphs its training DAGs are drawn from, in equal shares."""
        return MIXED if self.mixture else (DEFAULT_GRAPHS,)


@dataclass(frozen=True)
class Tested:
    """A setting's labelled test set, the cost of the expert's and every heuristic's
    placement of each test DAG, the expert's and HEFT's online delays in ms (when timed)
    and the part's seconds."""

    data: DagDataset
    costs: dict[str, np.ndarray]
    delays: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class Placed:
    """One seed's learners: each one's cost per test DAG on each test set (keyed as the
    test sets were), training seconds, online delays in ms (when timed), and the part's
    seconds."""

    costs: dict[str, dict[str, np.ndarray]]
    train_seconds: dict[str, float]
    delays: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class LearnPart:
    """A training and the test sets its learners place, the in-distribution one first."""

    training: Training
    tests: dict[str, DagDataset]


def _dataset(
    n: int,
    contention: bool,
    size: int,
    seed: int,
    progress: bool,
    labelling: Executor,
    graphs: Graphs = DEFAULT_GRAPHS,
) -> DagDataset:
    return generate_dag_dataset(
        size,
        n_subtasks=n,
        fat=graphs.fat,
        density=graphs.density,
        contention=contention,
        seed=seed,
        shard_size=16,
        progress=progress,
        executor=labelling,
    )


def _shares(total: int, parts: int) -> list[int]:
    """``total`` cut into ``parts`` shares that differ by at most one."""
    return [total // parts + (k < total % parts) for k in range(parts)]


def _greedy(policy: NetworkPolicy) -> Decide:
    """A network's argmax place for each task's current subtask."""
    return lambda observations, _: policy.scores(observations).argmax(axis=1)


def _expert_path(data: DagDataset) -> Decide:
    rows = np.arange(len(data))
    return lambda _, episodes: data.decisions[rows, episodes.current].astype(np.int64)


def train_dil_dag(
    train: DagDataset,
    sizes: Sizes,
    rng: np.random.Generator,
    progress: bool,
    name: str = "dil_seq",
) -> tuple[NetworkPolicy, TrainingHistory, np.ndarray]:
    """``dil_seq`` (called ``name``): BC of the expert's placements, then DAgger rounds
    without contention.

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
        name,
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
    name: str = "kd_student",
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
    student = NetworkPolicy(name, net, "multilabel", n)
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


def summarise(costs: np.ndarray, data: DagDataset) -> dict[str, Any]:
    """A policy's figures from its costs (seeds, test DAGs) on ``data``: the mean ratio to
    the expert's cost with its interval and the mean of each seed, the ratio of means, and
    the mean ratio to the no-contention optimum with its interval."""
    ratios = costs / data.costs
    mean, low, high = confidence_interval(ratios)
    bound, bound_low, bound_high = confidence_interval(costs / data.lower_bound)
    return {
        "mean_ratio": mean,
        "ci_low": low,
        "ci_high": high,
        "per_seed": ratios.mean(axis=1).tolist(),
        "ratio_of_means": float(costs.sum() / (len(costs) * data.costs.sum())),
        "over_lower_bound": bound,
        "over_lower_bound_ci_low": bound_low,
        "over_lower_bound_ci_high": bound_high,
    }


def place_heuristics(
    setting: Setting,
    sizes: Sizes,
    *,
    timed: bool,
    progress: bool = True,
    labelling: Executor = EVERY_CORE,
) -> Tested:
    """Label ``setting``'s test DAGs and place them by the expert and every heuristic;
    when ``timed``, time the expert and HEFT online on the first ``delay_tasks``."""
    started = time.perf_counter()
    n, contention, graphs = setting.n, setting.contention, setting.graphs
    seed = 1000 * n + graphs.test_offset
    test = _dataset(n, contention, sizes.n_test, seed, progress, labelling, graphs)
    key = [0, n, int(contention)]  # the single-seed study's stream at the default graphs
    rng = np.random.default_rng(key if graphs == DEFAULT_GRAPHS else [*key, graphs.test_offset])
    decisions = {
        "expert": test.decisions.astype(np.int64),
        "heft": dag_solvers.heft(test.dags, contention=contention),
        "local": dag_solvers.local(test.dags),
        "edge": dag_solvers.edge(test.dags),
        "cloud": dag_solvers.cloud(test.dags),
        "random": dag_solvers.random(test.dags, rng),
    }
    delays = {}
    if timed:
        singles = [test.dags[i] for i in range(min(sizes.delay_tasks, len(test)))]
        delays["expert"] = _delay_ms(dag_solvers.solve_milp, singles)
        delays["heft"] = _delay_ms(
            lambda task: dag_solvers.heft(task, contention=contention), singles
        )
    costs = {
        name: cost(test.dags, chosen, test.objective, contention=contention)
        for name, chosen in decisions.items()
    }
    return Tested(test, costs, delays, time.perf_counter() - started)


def padded(data: DagDataset, n: int) -> DagBatch:
    """``data``'s DAGs with empty subtasks appended up to ``n`` (as they are at n), checked
    to keep the expert's costs."""
    dags = pad_dags(data.dags, n)
    if dags is not data.dags:
        extra = n - data.dags.n_subtasks
        decisions = np.pad(data.decisions.astype(np.int64), ((0, 0), (0, extra)))
        kept = cost(dags, decisions, data.objective, contention=data.contention)
        if not np.allclose(kept, data.costs, rtol=1e-9, atol=0.0):
            raise RuntimeError("padding changed the expert's costs")
    return dags


def train_and_place(
    training: Training,
    tests: dict[str, DagDataset],
    sizes: Sizes,
    *,
    timed: bool,
    progress: bool = True,
    labelling: Executor = EVERY_CORE,
) -> Placed:
    """Label one seed's training DAGs, train its learners, and place every test set of
    ``tests`` (padded to the learners' n) with them; when ``timed``, time them online on
    the first test set's first ``delay_tasks``."""
    started = time.perf_counter()
    n, contention, seed = training.n, training.contention, training.seed
    if training.mixture and contention:
        raise ValueError("the mixture of generator settings is trained without contention only")
    if any(data.contention != contention for data in tests.values()):
        raise ValueError(f"{training.label}: every test set must have contention={contention}")
    rng = np.random.default_rng([1, n, int(contention), seed, int(training.mixture)])
    settings = DagSettings.for_model(n, contention=contention)
    generators = training.generators
    budget = sizes.n_train_contention if contention else sizes.n_train
    log(f"{training.label}: labelling {budget} training DAGs")
    shares = _shares(budget, len(generators))
    train = DagDataset.concatenate(
        [
            _dataset(
                n, contention, share, 1000 * n + g.train_offset + 10 * seed, progress, labelling, g
            )
            for g, share in zip(generators, shares, strict=True)
            if share
        ]
    )
    suffix = "_mix" if training.mixture else ""
    log(f"{training.label}: training dil_seq{suffix}")
    dil, history, states = train_dil_dag(train, sizes, rng, progress, name=f"dil_seq{suffix}")
    log(f"{training.label}: distilling the 2 x 32 student")
    fresh = [
        generate_dags(share, n_subtasks=n, fat=g.fat, density=g.density, rng=rng)
        for g, share in zip(generators, _shares(sizes.student_tasks, len(generators)), strict=True)
    ]
    student_dags = DagBatch.concatenate([train.dags, *fresh])
    student, student_seconds = distill_student(
        dil, student_dags, settings, sizes, rng, name=f"kd_student{suffix}"
    )
    train_seconds = {dil.name: history.seconds, student.name: student_seconds}
    sequential = [dil]
    if not training.mixture:
        log(f"{training.label}: training DQN")
        dqn, train_seconds["dqn"] = train_dqn_dag(n, contention, states, sizes, rng, progress)
        sequential.append(dqn)
    fast = [policy.with_backend("numpy") for policy in sequential]
    fast_student = student.with_backend("numpy")
    costs = {}
    for key, data in tests.items():
        dags = padded(data, n)
        decisions = {policy.name: rollout(dags, _greedy(policy), settings)[0] for policy in fast}
        decisions[student.name] = student_decisions(fast_student, dags)
        costs[key] = {
            name: cost(dags, chosen, data.objective, contention=contention)
            for name, chosen in decisions.items()
        }
    delays = {}
    if timed:
        first = next(iter(tests.values()))
        singles = [first.dags[i] for i in range(min(sizes.delay_tasks, len(first)))]
        for policy in fast:
            delays[policy.name] = _delay_ms(
                lambda task, policy=policy: rollout(task, _greedy(policy), settings), singles
            )
        delays[student.name] = _delay_ms(
            lambda task: student_decisions(fast_student, task), singles
        )
    return Placed(costs, train_seconds, delays, time.perf_counter() - started)


def _names(costs: dict[str, Any]) -> list[str]:
    """The policies of ``costs`` in the tables' order."""
    return [name for name in ("expert", *HEURISTICS, *LEARNED, *MIXTURE) if name in costs]


def _gathered(key: str, placed: Sequence[Placed]) -> dict[str, np.ndarray]:
    """Each learner's costs (seeds, test DAGs) on test set ``key``, over the seeds that
    placed it."""
    costs: dict[str, list[np.ndarray]] = {}
    for part in placed:
        for name, values in part.costs.get(key, {}).items():
            costs.setdefault(name, []).append(values)
    return {name: np.stack(values) for name, values in costs.items()}


def setting_figures(key: str, tested: Tested, placed: Sequence[Placed]) -> dict[str, dict]:
    """Every policy's figures on test set ``key`` (``tested``'s), with the learners of the
    seeds in ``placed`` that placed it, their delays (the timed seed's) and seconds."""
    costs = {name: values[None] for name, values in tested.costs.items()}
    costs.update(_gathered(key, placed))
    delays = dict(tested.delays)
    seconds: dict[str, list[float]] = {}
    for part in placed:
        if key in part.costs:
            delays.update(part.delays)
            for name, spent in part.train_seconds.items():
                seconds.setdefault(name, []).append(spent)
    figures = {}
    for name in _names(costs):
        figures[name] = summarise(costs[name], tested.data)
        if name in delays:
            figures[name]["online_ms"] = delays[name]
            figures[name]["speedup_vs_milp"] = delays["expert"] / delays[name]
        if name in seconds:
            figures[name]["train_seconds"] = float(np.mean(seconds[name]))
            figures[name]["train_seconds_per_seed"] = seconds[name]
    figures["expert"]["exact"] = float(tested.data.exact.mean())
    return figures


def run_setting(
    n: int,
    contention: bool,
    sizes: Sizes,
    *,
    learn: bool,
    seed: int = 0,
    progress: bool = True,
    labelling: Executor = EVERY_CORE,
) -> dict[str, dict[str, Any]]:
    """Every policy's figures at one (n, contention), the learners (if ``learn``) trained
    once, with ``seed``: their intervals are over test DAGs only."""
    setting = Setting(n, contention)
    tested = place_heuristics(setting, sizes, timed=True, progress=progress, labelling=labelling)
    placed = []
    if learn:
        training = Training(n, contention, seed)
        tests = {setting.label: tested.data}
        placed.append(
            train_and_place(
                training, tests, sizes, timed=True, progress=progress, labelling=labelling
            )
        )
    return setting_figures(setting.label, tested, placed)


def _padded_label(m: int, n: int) -> str:
    """The key of the n = ``m`` test set as padded for learners of ``n`` subtasks."""
    return f"{Setting(m, False).label}, padded to {n}"


def _tests_for(training: Training, tested: dict[str, Tested]) -> dict[str, DagDataset]:
    """The test sets a seed's learners place: the in-distribution one first and, without
    contention, the shifted graphs' and those of smaller n (padded when placed)."""
    n = training.n
    home = Setting(n, training.contention)
    tests = {home.label: tested[home.label].data}
    if not training.contention:
        for graphs in SHIFTS:
            shifted = Setting(n, False, graphs).label
            tests[shifted] = tested[shifted].data
        for m in SIZES:
            if m < n:
                tests[_padded_label(m, n)] = tested[Setting(m, False).label].data
    return tests


def heuristic_verdict(learner: dict[str, Any], heuristic: dict[str, Any]) -> str:
    """``worse`` if the learner's interval lies above the heuristic's, ``not worse`` if it
    lies below it, else ``undecided`` (the intervals overlap)."""
    if learner["ci_low"] > heuristic["ci_high"]:
        return "worse"
    if learner["ci_high"] < heuristic["ci_low"]:
        return "not worse"
    return "undecided"


def generalisation(
    n: int, tested: dict[str, Tested], placed: Sequence[Placed]
) -> dict[str, dict[str, Any]]:
    """The learners trained at n without contention on every test set, one row each: in
    distribution (``default``), on the shifted graphs, and at the other n (padded when
    smaller; not applicable when larger). Each row has the expert's, the best heuristics'
    and the learners' figures and, on shifted rows, each learner against the best
    heuristic there."""
    home = Setting(n, False).label
    plan = [("default", home, home, f"in distribution: n = {n}, {DEFAULT_GRAPHS.describe()}")]
    for graphs in SHIFTS:
        key = Setting(n, False, graphs).label
        plan.append((graphs.name, key, key, f"n = {n}, {graphs.describe()}"))
    for m in SIZES:
        key = Setting(m, False).label
        if m < n:
            plan.append((f"n={m}", key, _padded_label(m, n), f"n = {m}, padded to {n}"))
        elif m > n:
            plan.append((f"n={m}", key, None, f"n = {m}, more subtasks than the learners place"))
    learners = list(_gathered(home, placed))
    rows = {}
    for row, key, learner_key, description in plan:
        data = tested[key].data
        figures = {
            name: summarise(tested[key].costs[name][None], data)
            for name in ("expert", *BEST_HEURISTICS)
        }
        entry: dict[str, Any] = {"setting": description, "figures": figures}
        if learner_key is None:
            entry["not_applicable"] = {name: f"observation sized for n = {n}" for name in learners}
        else:
            for name, costs in _gathered(learner_key, placed).items():
                figures[name] = summarise(costs, data)
            if row != "default":
                best = min(BEST_HEURISTICS, key=lambda name: figures[name]["mean_ratio"])
                entry["best_heuristic"] = best
                entry["against_best_heuristic"] = {
                    name: heuristic_verdict(figures[name], figures[best]) for name in learners
                }
        rows[row] = entry
    return rows


def target_verdict(figures: dict[str, Any], bound: float) -> str:
    """A target ``mean ratio <= bound`` against the interval: met, missed or undecided."""
    if figures["ci_high"] <= bound:
        return "met"
    if figures["ci_low"] > bound:
        return "missed"
    return UNDECIDED


def targets(
    results: dict[str, dict[str, dict]],
    tables: dict[str, dict[str, dict[str, Any]]],
    learned: Sequence[int],
) -> list[dict[str, Any]]:
    """Every target stated against its interval, at each learned n: each learner within its
    bound in distribution, ``dil_seq`` below HEFT with contention, and no learner of a pair
    worse than the best heuristic on any shifted row."""
    stated = []
    for n in learned:
        free, busy = Setting(n, False).label, Setting(n, True).label
        for name, bound in TARGETS.items():
            if name in results[free]:
                figures = results[free][name]
                stated.append(
                    {
                        "target": f"{name} within {bound - 1:.0%} of the expert in distribution",
                        "setting": free,
                        "figure": _interval(figures),
                        "verdict": target_verdict(figures, bound),
                    }
                )
        if "dil_seq" in results[busy]:
            dil, heft = results[busy]["dil_seq"], results[busy]["heft"]
            verdict = {"not worse": "met", "worse": "missed"}.get(
                heuristic_verdict(dil, heft), "undecided (the intervals overlap)"
            )
            stated.append(
                {
                    "target": "dil_seq better than HEFT with contention",
                    "setting": busy,
                    "figure": f"{_interval(dil)} against HEFT's {_interval(heft)}",
                    "verdict": verdict,
                }
            )
        rows = [row for row in tables[f"n={n}"].values() if "against_best_heuristic" in row]
        for pair in (("dil_seq", "kd_student"), MIXTURE):
            verdicts = [
                row["against_best_heuristic"][name]
                for row in rows
                for name in pair
                if name in row["against_best_heuristic"]
            ]
            if not verdicts:
                continue
            if "worse" in verdicts:
                verdict = "missed"
            elif all(v == "not worse" for v in verdicts):
                verdict = "met"
            else:
                verdict = "undecided (some intervals overlap the best heuristic's)"
            stated.append(
                {
                    "target": f"neither {pair[0]} nor {pair[1]} worse than the best heuristic "
                    "on any shifted setting",
                    "setting": f"n={n}: {', '.join(graphs.name for graphs in SHIFTS)}, smaller n",
                    "figure": f"{verdicts.count('worse')} worse, "
                    f"{verdicts.count('undecided')} undecided of {len(verdicts)}",
                    "verdict": verdict,
                }
            )
    return stated


def _heuristics_part(setting: Setting, sizes: Sizes, progress: bool, labelling: Executor) -> Tested:
    # One test set, wherever it runs: torch on one thread, as in the local run.
    pin_threads()
    log(f"{setting.label}: test set")
    timed = setting.graphs == DEFAULT_GRAPHS
    tested = place_heuristics(setting, sizes, timed=timed, progress=progress, labelling=labelling)
    log(f"{setting.label}: test set done in {tested.seconds:.0f} s")
    return tested


def _learn_part(part: LearnPart, sizes: Sizes, progress: bool, labelling: Executor) -> Placed:
    pin_threads()
    training = part.training
    timed = training.seed == 0
    placed = train_and_place(
        training, part.tests, sizes, timed=timed, progress=progress, labelling=labelling
    )
    log(f"{training.label}: done in {placed.seconds:.0f} s")
    return placed


def run(
    out: Path,
    *,
    sizes: Sizes,
    learned: tuple[int, ...] = (20,),
    seeds: int = SEEDS,
    mixture: bool = False,
    progress: bool = True,
    executor: Executor = SEQUENTIAL,
) -> dict[str, dict[str, dict[str, Any]]]:
    """The whole study: n = 10, 20, 30, without and with contention, the learners at each
    ``learned`` n over ``seeds`` seeds (and on the mixture if ``mixture``).

    First every test set is labelled and placed by the expert and the heuristics, then
    every seed of every learned setting trains and places its test sets. Within each
    stage the parts are independent: ``executor`` (an
    :class:`~gym_mecoffload.executors.Executor`) spreads them over processes or Ray
    tasks (by default one after another in this process, each labelling on every core).
    On Ray, each part's labelling runs as Ray tasks too. Every figure but seconds and
    delays is the same wherever they run. Returns the six settings' figures
    (``results`` in ``results.json``, which also holds the generalisation tables and
    the targets).
    """
    pin_threads()
    unknown = sorted(set(learned) - set(SIZES))
    if unknown:
        raise ValueError(f"learned sizes must be among {SIZES}; got {unknown}")
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1; got {seeds}")
    started = time.perf_counter()
    if executor.name == "ray":
        labelling = Executor("ray", None, executor.address)  # nested Ray tasks, same cluster
    elif executor.in_process:
        labelling = EVERY_CORE  # as before
    else:
        labelling = SEQUENTIAL  # the parts already fill the cores
    main = [Setting(n, contention) for n in SIZES for contention in (False, True)]
    shifted = [Setting(n, False, graphs) for n in learned for graphs in SHIFTS]
    everywhere = [*main, *shifted]
    found = run_parts(
        partial(_heuristics_part, sizes=sizes, labelling=labelling),
        everywhere,
        executor=executor,
        progress=progress,
        label="DAG test sets",
    )
    tested = {setting.label: part for setting, part in zip(everywhere, found, strict=True)}
    trainings = [
        Training(n, contention, seed, on_mixture)
        for n in learned
        for contention in (False, True)
        for seed in range(seeds)
        for on_mixture in ((False, True) if mixture and not contention else (False,))
    ]
    placed = run_parts(
        partial(_learn_part, sizes=sizes, labelling=labelling),
        [LearnPart(training, _tests_for(training, tested)) for training in trainings],
        executor=executor,
        progress=progress,
        label="DAG learners",
    )
    results = {
        setting.label: setting_figures(setting.label, tested[setting.label], placed)
        for setting in main
    }
    tables = {f"n={n}": generalisation(n, tested, placed) for n in learned}
    part_seconds = {label: part.seconds for label, part in tested.items()}
    part_seconds.update(
        {training.label: part.seconds for training, part in zip(trainings, placed, strict=True)}
    )
    payload = {
        "seconds": time.perf_counter() - started,
        "sizes": vars(sizes),
        "seeds": seeds,
        "mixture": mixture,
        "bootstrap": {
            "resamples": RESAMPLES,
            "level": LEVEL,
            "seed": BOOTSTRAP_SEED,
            "same_dags": True,
        },
        "results": results,
        "generalisation": tables,
        "targets": targets(results, tables, learned),
        "part_seconds": part_seconds,
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", payload)
    write_text(out / "results.md", report(payload))
    dag_ratios(results, (*HEURISTICS, *LEARNED, *MIXTURE), out / "dag.png")
    return results


def _interval(figures: dict[str, Any], metric: str = "mean_ratio") -> str:
    """``1.049 [1.040, 1.058]``: a figure and its interval."""
    prefix = "" if metric == "mean_ratio" else f"{metric}_"
    low, high = figures[f"{prefix}ci_low"], figures[f"{prefix}ci_high"]
    return f"{figures[metric]:.3f} [{low:.3f}, {high:.3f}]"


def report(payload: dict[str, Any]) -> str:
    """``results.md`` from ``results.json``'s contents."""
    results, seeds = payload["results"], payload["seeds"]
    names = _names({name: 0 for row in results.values() for name in row})
    sections = [
        f"Every figure: mean [95% interval]. Learners: {seeds} training seeds each, the "
        f"interval a two-level bootstrap ({payload['bootstrap']['resamples']:,} resamples of "
        "the seeds, then of the test DAGs, one draw for all the drawn seeds since every seed "
        "places the same test set); expert and heuristics "
        "(deterministic): a bootstrap over the test DAGs. Delays: seed 0's policies."
    ]
    stated = {f"{target['target']} ({target['setting']})": target for target in payload["targets"]}
    if stated:
        sections.append(
            "### Targets\n\n"
            + markdown_table(stated, ["figure", "verdict"], first="target (where)")
        )
    for metric, title in (
        (
            "mean_ratio",
            "Makespan / the expert's (mean of ratios; the expert is the best known with "
            "contention at n > 9)",
        ),
        ("over_lower_bound", "Makespan / the no-contention optimum (a lower bound)"),
    ):
        rows = {
            label: {name: _interval(figures, metric) for name, figures in row.items()}
            for label, row in results.items()
        }
        sections.append(f"### {title}\n\n" + markdown_table(rows, names, first="setting"))
    rows = {
        label: {name: f["online_ms"] for name, f in row.items() if "online_ms" in f}
        for label, row in results.items()
    }
    shown = [name for name in names if any(name in row for row in rows.values())]
    sections.append(
        "### Online delay per task, ms (one task at a time, one thread; median)\n\n"
        + markdown_table(rows, shown, first="setting")
    )
    for size, table in payload["generalisation"].items():
        learners = [name for name in (*LEARNED, *MIXTURE) if name in table["default"]["figures"]]
        columns = ["expert", *BEST_HEURISTICS, *learners]
        cells = {}
        for row, entry in table.items():
            missing = entry.get("not_applicable", {})
            cells[f"{row} ({entry['setting']})"] = {
                name: f"n/a ({missing[name]})"
                if name in missing
                else _interval(entry["figures"][name])
                for name in columns
                if name in missing or name in entry["figures"]
            }
        sections.append(
            f"### Generalisation: the {size} learners trained without contention on the "
            "default graphs, makespan / the expert's\n\n"
            + markdown_table(cells, columns, first="test set")
        )
        verdicts = {
            row: {"best heuristic": entry["best_heuristic"], **entry["against_best_heuristic"]}
            for row, entry in table.items()
            if "against_best_heuristic" in entry
        }
        if verdicts:
            sections.append(
                f"### The {size} learners against the best heuristic (HEFT or local) on each "
                "shifted test set\n\n"
                "worse: the learner's interval lies above the heuristic's; not worse: below "
                "it; undecided: they overlap.\n\n"
                + markdown_table(verdicts, ["best heuristic", *learners], first="test set")
            )
    return "\n\n".join(sections) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument(
        "--seeds", type=int, default=SEEDS, help=f"training seeds per learner (default {SEEDS})"
    )
    parser.add_argument(
        "--train-mixture",
        action="store_true",
        help="also train dil_seq and its student on equal thirds of the default and the two "
        "shifted generator settings (always on with --quick)",
    )
    parser.add_argument("--no-progress", action="store_true")
    add_executor_arguments(parser, "test sets, then the seeds' trainings")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1; got {args.seeds}")
    run(
        args.out,
        sizes=QUICK if args.quick else Sizes(),
        seeds=args.seeds,
        mixture=args.train_mixture or args.quick,
        progress=not args.no_progress,
        executor=executor_from(parser, args),
    )
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
