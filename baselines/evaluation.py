"""Decision quality and decision delay of any :class:`~baselines.policies.Policy` (SPEC
section 5), and of any multi-user policy on seeded episodes (:func:`evaluate_multi`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from baselines.policies import NetworkPolicy, Policy, SolverPolicy
from gym_mecoffload.chain.data import OffloadDataset
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.metrics import evaluate_decisions
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.episodes import nearest_rank
from gym_mecoffload.multi.model import MultiScenario, draw_episodes
from gym_mecoffload.solvers import SINGLE_TASK_SOLVERS


def evaluate(policy: Policy, test: OffloadDataset) -> dict[str, float]:
    """Normalised cost (mean of ratios, ratio of means), label accuracy, exact match, size."""
    figures = evaluate_decisions(
        test.states, policy.decide(test.states), test.decisions, test.objective
    )
    figures["params"] = policy.n_parameters
    figures["model_bytes"] = policy.model_bytes
    return figures


def pin_threads() -> None:
    """One thread for torch and for the BLAS and OpenMP pools loaded (numpy's), so that
    every policy is timed on one core alike and a study's parts compute alike wherever
    they run. Called where work starts, not at import: importing a module of this
    package changes no thread count."""
    torch.set_num_threads(1)
    threadpool_limits(1)  # as OMP_NUM_THREADS=1 would, but after numpy has loaded


def online_times_us(
    decide_one: Callable[[Any], object], singles: list, warmup: int = 1
) -> np.ndarray:
    """Microseconds (len(singles),) that ``decide_one`` takes on each task, one at a time
    (tasks sliced beforehand), after ``warmup`` untimed calls on the first tasks."""
    for task in singles[:warmup]:
        decide_one(task)
    times = np.empty(len(singles))
    for i, task in enumerate(singles):
        started = time.perf_counter_ns()
        decide_one(task)
        times[i] = time.perf_counter_ns() - started
    return times / 1e3


def _batched_us(policy: Policy, test: OffloadDataset, repeats: int) -> float:
    policy.decide(test.states[:64])  # warm-up
    best = np.inf
    for _ in range(repeats):
        started = time.perf_counter_ns()
        policy.decide(test.states)
        best = min(best, time.perf_counter_ns() - started)
    return best / 1e3 / len(test)


def measure_delay(
    policies: Mapping[str, Policy],
    test: OffloadDataset,
    *,
    online_tasks: int = 1000,
    repeats: int = 3,
    reference: str = "greedy",
    progress: bool = True,
) -> dict[str, dict[str, float]]:
    """Seconds per whole-task decision, online and batched, as ratios to ``reference``.

    * online: ``decide_one`` on each of the first ``online_tasks`` test tasks in
      turn (pre-sliced batches of one, after a warm-up); median and p90 in us.
    * batched: ``decide`` on the whole test set at once; best of ``repeats``
      runs, divided by the number of tasks, in us.

    Learned policies are timed through torch and through plain numpy
    (``*_numpy_*`` figures); solvers through the batch path and their
    single-task path (``online_single_*``, :data:`gym_mecoffload.solvers.SINGLE_TASK_SOLVERS`).
    Threads are pinned to one.
    """
    if reference not in policies:
        raise ValueError(
            f"the reference policy {reference!r} must be among those timed: {sorted(policies)}"
        )
    pin_threads()
    singles = [test.states[i] for i in range(min(online_tasks, len(test)))]
    warmup = min(20, len(singles))
    results: dict[str, dict[str, float]] = {}
    names = list(policies)
    bar = _progress(len(names), "decision delay", progress)
    for name in names:
        policy = policies[name]
        figures: dict[str, float] = {}
        backends = [("", policy)]
        if isinstance(policy, NetworkPolicy):
            backends = [
                ("", policy.with_backend("torch")),
                ("_numpy", policy.with_backend("numpy")),
            ]
        elif isinstance(policy, SolverPolicy) and policy.name in SINGLE_TASK_SOLVERS:
            # The same decide(): only decide_one differs, so "_single" is timed online only.
            backends = [
                ("", policy.with_single_task_path(False)),
                ("_single", policy.with_single_task_path(True)),
            ]
        with torch.inference_mode():
            for suffix, timed in backends:
                online = online_times_us(timed.decide_one, singles, warmup)
                figures[f"online{suffix}_us"] = float(np.median(online))
                figures[f"online{suffix}_p90_us"] = float(np.percentile(online, 90))
                if suffix != "_single":
                    figures[f"batched{suffix}_us"] = _batched_us(timed, test, repeats)
        figures["params"] = policy.n_parameters
        results[name] = figures
        bar.update(1)
    bar.close()
    base = results[reference]
    for figures in results.values():
        for mode in ("online", "batched"):
            figures[f"{mode}_ratio"] = figures[f"{mode}_us"] / base[f"{mode}_us"]
            for suffix in ("_numpy", "_single"):
                if f"{mode}{suffix}_us" in figures:
                    figures[f"{mode}{suffix}_ratio"] = (
                        figures[f"{mode}{suffix}_us"] / base[f"{mode}_us"]
                    )
    return results


def _progress(total: int, description: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, disable=not enabled)


# The multi-user family: a policy is policy(core) -> places (gym_mecoffload.multi.experts).
MultiPolicy = Callable[[MultiCore], np.ndarray]


@dataclass(frozen=True)
class MultiEvaluation:
    """A multi-user policy on seeded test episodes: per-episode figures (E,), and its
    decision time."""

    cost_per_task: np.ndarray  # the objective's cost per task (class-weighted s for latency)
    latency_mean: np.ndarray  # s, over tasks not dropped
    latency_p95: np.ndarray  # s
    misses_per_1000: np.ndarray
    drops_per_1000: np.ndarray
    microseconds_per_task: float  # deciding one system's slot at a time, per task

    def figures(self) -> dict[str, list[float] | float]:
        """The figures as JSON-ready lists (per test episode) and the decision time."""
        return {
            "cost": self.cost_per_task.tolist(),
            "latency_mean": self.latency_mean.tolist(),
            "latency_p95": self.latency_p95.tolist(),
            "misses_per_1000": self.misses_per_1000.tolist(),
            "drops_per_1000": self.drops_per_1000.tolist(),
            "microseconds_per_task": self.microseconds_per_task,
        }


def evaluate_multi(
    policy: MultiPolicy,
    scenario: MultiScenario,
    episodes: int,
    seed: int,
    objective: str = "latency",
) -> MultiEvaluation:
    """``policy`` on ``episodes`` episodes drawn from ``numpy.random.default_rng(seed)``
    (the same test episodes for every policy given the same seed)."""
    core = MultiCore(scenario, objective, Objective(), episodes)
    core.reset(draw_episodes(scenario, episodes, np.random.default_rng(seed)))
    while not core.done.any():
        core.step(policy(core))
    tasks = (core.record_place >= 0).reshape(episodes, -1).sum(axis=-1)
    per = np.maximum(tasks, 1)
    latency = core.record_latency.reshape(episodes, -1)
    done = np.isfinite(latency)
    return MultiEvaluation(
        cost_per_task=core.record_cost.reshape(episodes, -1).sum(axis=-1) / per,
        latency_mean=np.where(done, latency, 0.0).sum(axis=-1) / np.maximum(done.sum(axis=-1), 1),
        latency_p95=nearest_rank(latency, 0.95),
        misses_per_1000=1000 * core.record_missed.reshape(episodes, -1).sum(axis=-1) / per,
        drops_per_1000=1000 * core.record_dropped.reshape(episodes, -1).sum(axis=-1) / per,
        microseconds_per_task=decision_microseconds(policy, scenario, seed),
    )


def decision_microseconds(
    policy: MultiPolicy, scenario: MultiScenario, seed: int, slots: int = 20
) -> float:
    """Online decision time per task: one system's slot decided at a time (as a device or
    a dispatcher would), median over ``slots`` slots, divided by the slot's tasks."""
    core = MultiCore(scenario, "latency", Objective(), 1)
    core.reset(draw_episodes(scenario, 1, np.random.default_rng(seed + 1)))
    times = []
    while not core.done.any() and len(times) < slots:
        tasks = int(core.current()["has_task"].sum())
        started = time.perf_counter()
        places = policy(core)
        seconds = time.perf_counter() - started
        if tasks:
            times.append(seconds / tasks)
        core.step(places)
    return 1e6 * float(np.median(times)) if times else float("nan")
