"""Solvers for DAG tasks (SPEC-DAG section 3).

* :func:`optimal`: without contention, a mixed-integer linear program solved by
  HiGHS (SciPy's ``milp``), exact; with contention, exhaustive search up to
  :data:`MAX_EXHAUSTIVE_CONTENTION` subtasks.
* :func:`best_known`: with contention beyond that, the best placement found (the
  MILP's, HEFT's and a local search from both) with the no-contention optimum as
  a lower bound; never called optimal.
* :func:`exhaustive`: all 3^n placements through the makespan simulation.
* :func:`heft`, :func:`local`, :func:`edge`, :func:`cloud`, :func:`random`.

The MILP follows SPEC-DAG section 3: two threshold binaries per subtask,
``z1 = [place >= edge]`` and ``z2 = [place = cloud]``, make the per-byte cost a
path metric, ``d * (|z1[u] - z1[v]| / b1 + |z2[u] - z2[v]| / b2)``, so each edge
needs only continuous variables for the absolute values, and execution is linear
in ``z1`` and ``z2``. Its solve time against n is measured in the README.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from gym_mecoffload.core.checks import check_indices, check_switch, holds_integers_below
from gym_mecoffload.core.objective import Objective, as_objective, device_joules
from gym_mecoffload.core.topology import DEVICE, N_PLACES
from gym_mecoffload.dag.model import (
    DagBatch,
    Schedule,
    cost,
    priority_order,
    require_dags,
    run_seconds,
)

MAX_EXHAUSTIVE_SUBTASKS = 12  # 531,441 placements per task
MAX_EXHAUSTIVE_CONTENTION = 9  # 19,683 schedules per task, each simulated subtask by subtask
_EXHAUSTIVE_CHUNK = 20_000  # placements evaluated at once
# HiGHS stops at a relative gap of 1e-4 by default; the expert must be exact to rounding.
# HiGHS's options, tried in turn: its presolve rarely ends in "Solve error" on a task it
# then solves without presolve (1 of about 7,300 tasks at n = 10 and 20 in our checks).
# The gap stays 1e-9 either way: the answer is the optimum, only found another way.
_MILP_ATTEMPTS = (
    {"mip_rel_gap": 1e-9, "presolve": True},
    {"mip_rel_gap": 1e-9, "presolve": False},
)


def _check_size(dags: DagBatch, limit: int, what: str) -> None:
    if dags.n_subtasks > limit:
        raise ValueError(
            f"{what} is limited to n <= {limit} subtasks ({3**limit:,} placements per task); "
            f"got n = {dags.n_subtasks}. Use optimal() (MILP) without contention, or "
            "best_known() with it."
        )


def exhaustive(
    dags: DagBatch, objective: str | Objective = "latency", *, contention: bool = False
) -> np.ndarray:
    """The best of all 3^n placements (N, n), ties to the first in lexicographic order."""
    require_dags(dags)
    _check_size(
        dags,
        MAX_EXHAUSTIVE_CONTENTION if contention else MAX_EXHAUSTIVE_SUBTASKS,
        "exhaustive search",
    )
    n = dags.n_subtasks
    every = np.array(list(itertools.product(range(N_PLACES), repeat=n)), dtype=np.int64)
    best = np.empty((len(dags), n), dtype=np.int64)
    for i in range(len(dags)):
        values = np.empty(len(every))
        for start in range(0, len(every), _EXHAUSTIVE_CHUNK):
            block = every[start : start + _EXHAUSTIVE_CHUNK]
            repeated = dags[np.full(len(block), i)]
            values[start : start + len(block)] = cost(
                repeated, block, objective, contention=contention
            )
        best[i] = every[int(np.argmin(values))]
    return best


@dataclass(frozen=True)
class MilpResult:
    """The MILP's placements (N, n), objective values (N,) and HiGHS's seconds per task (N,)."""

    decisions: np.ndarray
    values: np.ndarray
    seconds: np.ndarray


def solve_milp(dags: DagBatch, objective: str | Objective = "latency") -> MilpResult:
    """The exact optimum without contention, one MILP per task (see the module docstring)."""
    require_dags(dags)
    objective = as_objective(objective)
    decisions = np.empty((len(dags), dags.n_subtasks), dtype=np.int64)
    values, seconds = np.empty(len(dags)), np.empty(len(dags))
    for i in range(len(dags)):
        started = time.perf_counter()
        decisions[i], values[i] = _milp_one(dags[i], objective)
        seconds[i] = time.perf_counter() - started
    return MilpResult(decisions, values, seconds)


def milp_next_place(
    dags: DagBatch,
    places: np.ndarray,
    current: np.ndarray,
    objective: str | Objective = "latency",
) -> np.ndarray:
    """The exact expert in any state, without contention: the place (N,) of subtask
    ``current[i]`` in the best completion of the places already chosen (``places``
    (N, n), -1 where not yet), one MILP per task with the chosen places fixed."""
    require_dags(dags)
    objective = as_objective(objective)
    places = np.asarray(places)
    if places.shape != (len(dags), dags.n_subtasks):
        raise ValueError(
            f"places must have shape {(len(dags), dags.n_subtasks)}; got {places.shape}"
        )
    # -1 (not placed yet) or a place; 5 or 1.5 must not read as the cloud or the edge.
    if places.dtype == bool or not holds_integers_below(places + 1, N_PLACES + 1):
        raise ValueError(
            "places must be integers: -1 (not placed yet), 0 (device), 1 (edge) or 2 (cloud); "
            f"got {places!r:.200}"
        )
    current = check_indices("current", current, len(dags), dags.n_subtasks, "subtask indices")
    answers = np.empty(len(dags), dtype=np.int64)
    for i in range(len(dags)):
        completion, _ = _milp_one(dags[i], objective, places[i])
        answers[i] = completion[int(current[i])]
    return answers


def _milp_one(
    task: DagBatch, objective: Objective, fixed: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    n = task.n_subtasks
    sources, targets = np.nonzero(task.edges[0])
    m = len(sources)
    # Variables: z1 (n), z2 (n), finish (n), pos1 (m), neg1 (m), abs2 (m), makespan T.
    z1, z2, finish = np.arange(n), n + np.arange(n), 2 * n + np.arange(n)
    pos1, neg1, abs2 = 3 * n + np.arange(m), 3 * n + m + np.arange(m), 3 * n + 2 * m + np.arange(m)
    makespan = 3 * n + 3 * m
    size = makespan + 1
    b1, b2 = float(task.edge_bandwidth[0]), float(task.cloud_bandwidth[0])
    run = run_seconds(task)[0]  # (n, 3): device, edge, cloud seconds
    rows, cols, data, upper = [], [], [], []

    def row(
        entries: list[tuple[np.ndarray | int, np.ndarray | float]],
        bound: np.ndarray | float,
        count: int,
    ) -> None:
        start = len(upper)
        for index, coefficient in entries:
            rows.append(start + np.arange(count))
            cols.append(np.broadcast_to(index, (count,)))
            data.append(np.broadcast_to(np.asarray(coefficient, dtype=np.float64), (count,)))
        upper.extend(np.broadcast_to(np.asarray(bound, dtype=np.float64), (count,)).tolist())

    # Execution: run = device + (edge - device) z1 + (cloud - edge) z2.
    gain_edge, gain_cloud = run[:, 1] - run[:, 0], run[:, 2] - run[:, 1]
    row([(z2, 1.0), (z1, -1.0)], 0.0, n)  # z2 <= z1: the cloud is beyond the edge
    # The task's input reaches v: finish[v] >= input[v] (z1/b1 + z2/b2) + run[v].
    inputs = task.input_data[0]
    row(
        [(z1, inputs / b1 + gain_edge), (z2, inputs / b2 + gain_cloud), (finish, -1.0)],
        -run[:, 0],
        n,
    )
    if m:
        row([(z1[targets], 1.0), (z1[sources], -1.0), (pos1, -1.0)], 0.0, m)
        row([(z1[sources], 1.0), (z1[targets], -1.0), (neg1, -1.0)], 0.0, m)
        row([(z2[targets], 1.0), (z2[sources], -1.0), (abs2, -1.0)], 0.0, m)
        row([(z2[sources], 1.0), (z2[targets], -1.0), (abs2, -1.0)], 0.0, m)
        moved = task.edge_data[0, sources, targets]
        # finish[v] >= finish[u] + moved (|dz1| / b1 + |dz2| / b2) + run[v]
        row(
            [
                (finish[sources], 1.0),
                (finish[targets], -1.0),
                (pos1, moved / b1),
                (neg1, moved / b1),
                (abs2, moved / b2),
                (z1[targets], gain_edge[targets]),
                (z2[targets], gain_cloud[targets]),
            ],
            -run[targets, 0],
            m,
        )
    outputs = task.output_data[0]
    row([(finish, 1.0), (z1, outputs / b1), (z2, outputs / b2), (makespan, -1.0)], 0.0, n)
    matrix = sparse.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(upper), size),
    )
    # Objective: w T + (1 - w) E; the device's energy is linear in z1 and the pos/neg parts.
    w = {"latency": 1.0, "energy": 0.0}.get(objective.name, objective.latency_weight)
    c = np.zeros(size)
    c[makespan] = w
    constant = 0.0
    if w < 1.0:
        tx, rx = objective.tx_power / b1, objective.rx_power / b1
        device_run = device_joules(objective, task.cycles[0], float(task.device_hz[0]))
        constant = (1 - w) * float(device_run.sum())
        c[z1] += (1 - w) * (-device_run + inputs * tx + outputs * rx)
        if m:
            c[pos1] += (1 - w) * moved * tx
            c[neg1] += (1 - w) * moved * rx
    integrality = np.zeros(size)
    integrality[: 2 * n] = 1
    lower = np.zeros(size)
    high = np.full(size, np.inf)
    high[: 2 * n] = 1.0
    if fixed is not None:  # places already chosen: z1 = [place >= edge], z2 = [place = cloud]
        chosen = np.flatnonzero(np.asarray(fixed) >= 0)
        for z, threshold in ((z1, 1), (z2, 2)):
            value = (np.asarray(fixed)[chosen] >= threshold).astype(float)
            lower[z[chosen]] = value
            high[z[chosen]] = value
    for options in _MILP_ATTEMPTS:
        result = milp(
            c,
            integrality=integrality,
            bounds=Bounds(lower, high),
            constraints=LinearConstraint(matrix, -np.inf, np.array(upper)),
            options=options,
        )
        if result.success:
            break
    else:
        raise RuntimeError(f"HiGHS found no solution for this task: {result.message}")
    places = np.rint(result.x[z1]).astype(np.int64) + np.rint(result.x[z2]).astype(np.int64)
    return places, float(result.fun + constant)


def optimal(
    dags: DagBatch, objective: str | Objective = "latency", *, contention: bool = False
) -> np.ndarray:
    """The exact optimum (N, n): the MILP without contention; with contention, exhaustive
    search up to :data:`MAX_EXHAUSTIVE_CONTENTION` subtasks (beyond, use :func:`best_known`)."""
    if check_switch("contention", contention):
        _check_size(dags, MAX_EXHAUSTIVE_CONTENTION, "the exact optimum with contention")
        return exhaustive(dags, objective, contention=True)
    return solve_milp(dags, objective).decisions


@dataclass(frozen=True)
class BestKnown:
    """With contention: the best placement found (N, n), its cost, and a lower bound on the
    optimum (the no-contention optimum: contention never makes a placement faster)."""

    decisions: np.ndarray
    cost: np.ndarray
    lower_bound: np.ndarray
    exact: bool  # True when the size allowed exhaustive search


def best_known(
    dags: DagBatch, objective: str | Objective = "latency", *, sweeps: int = 4
) -> BestKnown:
    """The best placement with contention: exhaustive when n allows, else the best of the
    MILP's (no-contention) placement, HEFT's, and a local search from each (``sweeps``
    passes of single-subtask moves, each kept if it lowers the contention cost)."""
    milp_result = solve_milp(dags, objective)
    if dags.n_subtasks <= MAX_EXHAUSTIVE_CONTENTION:
        decisions = exhaustive(dags, objective, contention=True)
        return BestKnown(
            decisions, cost(dags, decisions, objective, contention=True), milp_result.values, True
        )
    candidates = [milp_result.decisions, heft(dags, contention=True)]
    found = [local_search(dags, start, objective, sweeps=sweeps) for start in candidates]
    costs = np.stack([cost(dags, d, objective, contention=True) for d in found])
    pick = costs.argmin(axis=0)
    rows = np.arange(len(dags))
    decisions = np.stack(found)[pick, rows]
    return BestKnown(decisions, costs[pick, rows], milp_result.values, False)


def local_search(
    dags: DagBatch, start: np.ndarray, objective: str | Objective = "latency", *, sweeps: int = 4
) -> np.ndarray:
    """Single-subtask moves with contention, kept where they lower a task's cost."""
    current = np.array(start, dtype=np.int64)
    value = cost(dags, current, objective, contention=True)
    for _ in range(sweeps):
        improved = False
        for v in range(dags.n_subtasks):
            for shift in (1, 2):
                trial = current.copy()
                trial[:, v] = (trial[:, v] + shift) % N_PLACES
                trial_value = cost(dags, trial, objective, contention=True)
                better = trial_value < value * (1 - 1e-12)
                if better.any():
                    improved = True
                    current[better] = trial[better]
                    value = np.where(better, trial_value, value)
        if not improved:
            break
    return current


def heft(dags: DagBatch, *, contention: bool = False) -> np.ndarray:
    """HEFT's processor selection (Topcuoglu et al. 2002): each subtask in priority order to
    the place where it finishes earliest, given the places already chosen; ties to the
    lowest place index."""
    order = priority_order(require_dags(dags))
    timeline = Schedule(dags, contention=contention)
    for k in range(dags.n_subtasks):
        v = order[:, k]
        finishes = np.stack(
            [timeline.finish_if(v, np.full(len(dags), p))[0] for p in range(N_PLACES)]
        )
        timeline.add(v, finishes.argmin(axis=0))
    return timeline.places.copy()


def _everywhere(dags: DagBatch, place: int) -> np.ndarray:
    return np.full((len(require_dags(dags)), dags.n_subtasks), place, dtype=np.int64)


def local(dags: DagBatch) -> np.ndarray:
    """Every subtask on the device."""
    return _everywhere(dags, DEVICE)


def edge(dags: DagBatch) -> np.ndarray:
    """Every subtask on the edge server."""
    return _everywhere(dags, 1)


def cloud(dags: DagBatch) -> np.ndarray:
    """Every subtask in the cloud."""
    return _everywhere(dags, 2)


def random(dags: DagBatch, rng: np.random.Generator) -> np.ndarray:
    """Every subtask's place uniformly at random, from ``rng``."""
    return rng.integers(0, N_PLACES, size=(len(require_dags(dags)), dags.n_subtasks))
