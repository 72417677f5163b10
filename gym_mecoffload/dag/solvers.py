"""Solvers for DAG tasks (SPEC-DAG section 3).

* :func:`optimal`: without contention, a mixed-integer linear program solved by
  HiGHS (SciPy's ``milp``), exact within :data:`MILP_GAP` at every scale (below);
  with contention, exhaustive search up to :data:`MAX_EXHAUSTIVE_CONTENTION` subtasks.
* :func:`best_known`: with contention beyond that, the best placement found (the
  MILP's, HEFT's and a local search from both) with the no-contention optimum as
  a lower bound; never called optimal.
* :func:`exhaustive`: all 3^n placements through the makespan simulation.
* :func:`heft`, :func:`local`, :func:`edge`, :func:`cloud`, :func:`random`.

The MILP follows SPEC-DAG section 3: two threshold binaries per subtask,
``z1 = [place >= edge]`` and ``z2 = [place = cloud]``, make the per-byte cost a
path metric, ``d * (|z1[u] - z1[v]| / b1 + |z2[u] - z2[v]| / b2)``, so each edge
needs only continuous variables for the absolute values, and execution is linear
in ``z1`` and ``z2``. Its solve time against n is measured in the docs (docs/dag.md).

Exactness: HiGHS's tolerances are absolute, so the program is solved in units of an
upper bound on the optimum (no more seconds or joules), with terms no optimum can pay
clipped. A placement is called exact only when its simulated cost is within
:data:`MILP_GAP` of the lower bound HiGHS proves; otherwise exhaustive search decides
where n <= :data:`MAX_EXHAUSTIVE_SUBTASKS`, and beyond, the best placement found is
returned marked not exact (``MilpResult.exact``), with a :class:`RuntimeWarning`.
"""

from __future__ import annotations

import itertools
import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from gym_mecoffload.core.checks import (
    check_count,
    check_indices,
    check_switch,
    holds_integers_below,
)
from gym_mecoffload.core.objective import Objective, as_objective, device_joules
from gym_mecoffload.core.topology import DEVICE, N_PLACES
from gym_mecoffload.dag.model import (
    DagBatch,
    Schedule,
    check_decisions_dag,
    cost,
    energy,
    priority_order,
    require_dags,
    run_seconds,
    seconds_per_byte,
)

MAX_EXHAUSTIVE_SUBTASKS = 12  # 531,441 placements per task
MAX_EXHAUSTIVE_CONTENTION = 9  # 19,683 schedules per task, each simulated subtask by subtask
_EXHAUSTIVE_CHUNK = 20_000  # placements evaluated at once
# A label is exact when its simulated cost is within this relative gap of HiGHS's proved
# bound. HiGHS aims at 1e-9 (its default, 1e-4, is too loose for an expert); the bound it
# proves carries its feasibility tolerance (1e-7, absolute, on the scaled program).
MILP_GAP = 1e-6
# HiGHS's options, tried in turn: its presolve rarely ends in "Solve error" on a task it
# then solves without presolve (1 of about 7,300 tasks at n = 10 and 20 in our checks).
_MILP_ATTEMPTS = (
    {"mip_rel_gap": 1e-9, "presolve": True},
    {"mip_rel_gap": 1e-9, "presolve": False},
)
_CLIP = 2.0  # scaled terms above this many reference costs cannot be paid by the optimum


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
    every = _placements(np.full(dags.n_subtasks, -1))
    best = np.empty((len(dags), dags.n_subtasks), dtype=np.int64)
    for i in range(len(dags)):
        best[i] = _best_of(dags[i], every, objective, contention)
    return best


def _placements(fixed: np.ndarray) -> np.ndarray:
    """Every placement (3^free, n) that keeps the places ``fixed`` (-1: free), in
    lexicographic order."""
    free = np.flatnonzero(fixed < 0)
    every = np.tile(np.asarray(fixed, dtype=np.int64), (N_PLACES ** len(free), 1))
    every[:, free] = np.array(list(itertools.product(range(N_PLACES), repeat=len(free))))
    return every


def _best_of(
    task: DagBatch, placements: np.ndarray, objective: str | Objective, contention: bool
) -> np.ndarray:
    """The cheapest of ``placements`` for one task, ties to the first."""
    values = np.empty(len(placements))
    for start in range(0, len(placements), _EXHAUSTIVE_CHUNK):
        block = placements[start : start + _EXHAUSTIVE_CHUNK]
        values[start : start + len(block)] = cost(
            task[np.zeros(len(block), dtype=np.int64)], block, objective, contention=contention
        )
    return placements[int(np.argmin(values))].copy()


@dataclass(frozen=True)
class MilpResult:
    """The MILP's answers for N tasks (see the module docstring).

    Attributes:
        decisions: (N, n) places.
        values: (N,) the decisions' costs, simulated (seconds, joules or their weighted sum).
        lower_bound: (N,) a proved lower bound on each task's optimum (HiGHS's dual bound,
            or the optimum itself where exhaustive search found it).
        exact: (N,) bool: the decision is optimal within :data:`MILP_GAP` (relative), proved
            by HiGHS's bound against its simulated cost, or by exhaustive search.
        seconds: (N,) the time spent per task (HiGHS and any fallback).
    """

    decisions: np.ndarray
    values: np.ndarray
    lower_bound: np.ndarray
    exact: np.ndarray
    seconds: np.ndarray


@dataclass(frozen=True)
class _Solved:
    places: np.ndarray
    cost: float
    bound: float
    exact: bool


def solve_milp(dags: DagBatch, objective: str | Objective = "latency") -> MilpResult:
    """The optimum without contention, one MILP per task, each proved within
    :data:`MILP_GAP` or marked not exact (see the module docstring)."""
    require_dags(dags)
    objective = as_objective(objective)
    decisions = np.empty((len(dags), dags.n_subtasks), dtype=np.int64)
    values, bounds, seconds = np.empty(len(dags)), np.empty(len(dags)), np.empty(len(dags))
    exact = np.empty(len(dags), dtype=bool)
    for i in range(len(dags)):
        started = time.perf_counter()
        solved = _solve_one(dags[i], objective, np.full(dags.n_subtasks, -1), task_index=i)
        decisions[i], values[i], bounds[i], exact[i] = (
            solved.places,
            solved.cost,
            solved.bound,
            solved.exact,
        )
        seconds[i] = time.perf_counter() - started
    return MilpResult(decisions, values, bounds, exact, seconds)


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
        completion = _solve_one(dags[i], objective, places[i].astype(np.int64), task_index=i)
        answers[i] = completion.places[int(current[i])]
    return answers


def _serial_costs(task: DagBatch, places: np.ndarray, objective: Objective) -> np.ndarray:
    """Upper bounds (k,) on the costs of k placements of one task, without a simulation:
    the makespan is at most every run and transfer one after another; the energy is exact."""
    k = len(places)
    rows = np.zeros(k, dtype=np.int64)
    w = objective.latency_share
    total = np.zeros(k)
    if w > 0.0:
        per_byte = seconds_per_byte(task)[0]  # (3, 3)
        run = run_seconds(task)[0]  # (n, 3)
        serial = run[np.arange(task.n_subtasks), places].sum(axis=1)
        serial = serial + (task.input_data[0] * per_byte[DEVICE, places]).sum(axis=1)
        serial = serial + (task.output_data[0] * per_byte[places, DEVICE]).sum(axis=1)
        sources, targets = np.nonzero(task.edges[0])
        moved = task.edge_data[0, sources, targets]
        serial = serial + (moved * per_byte[places[:, sources], places[:, targets]]).sum(axis=1)
        total += w * serial
    if w < 1.0:
        total += (1.0 - w) * energy(task[rows], places, objective)
    return total


def _solve_one(
    task: DagBatch, objective: Objective, fixed: np.ndarray, *, task_index: int
) -> _Solved:
    """One task's optimum with the places ``fixed`` (-1: free): HiGHS on the scaled model,
    checked against the simulated cost; else exhaustive search; else the best found."""
    n = task.n_subtasks
    # The three uniform completions bound the optimum from above: that bound sets the scale.
    uniform = np.where(fixed >= 0, fixed, np.arange(N_PLACES)[:, None])
    ceilings = _serial_costs(task, uniform, objective)
    best = int(np.argmin(ceilings))
    if ceilings[best] == 0.0:  # costs are >= 0: nothing beats it
        return _Solved(uniform[best], 0.0, 0.0, True)
    incumbent, incumbent_cost = None, np.inf
    bound = 0.0
    # First in units of that bound; if unproved, again in units of the best placement
    # found (a tighter scale, where HiGHS's tolerances weigh less against the gap).
    for reference in (float(ceilings[best]), None):
        if reference is None:
            if incumbent is None or not incumbent_cost > 0.0:
                break
            reference = incumbent_cost
        model = _milp_model(task, objective, fixed, reference)
        for options in _MILP_ATTEMPTS:
            result = milp(
                model.c,
                integrality=model.integrality,
                bounds=model.bounds,
                constraints=model.constraints,
                options=options,
            )
            if result.x is not None:
                places = np.rint(result.x[:n]).astype(np.int64) + np.rint(
                    result.x[n : 2 * n]
                ).astype(np.int64)
                value = float(cost(task, places[None], objective)[0])
                if value < incumbent_cost:
                    incumbent, incumbent_cost = places, value
            dual = getattr(result, "mip_dual_bound", None)
            if result.success and dual is not None and np.isfinite(dual):
                bound = max(bound, (float(dual) + model.constant) * model.unit)
            if incumbent is not None and incumbent_cost - bound <= MILP_GAP * incumbent_cost:
                return _Solved(incumbent, incumbent_cost, min(bound, incumbent_cost), True)
    free = int((fixed < 0).sum())
    if free <= MAX_EXHAUSTIVE_SUBTASKS:
        places = _best_of(task, _placements(fixed), objective, False)
        value = float(cost(task, places[None], objective)[0])
        return _Solved(places, value, value, True)
    uniform_costs = cost(task[np.zeros(N_PLACES, dtype=np.int64)], uniform, objective)
    if incumbent is None or uniform_costs.min() < incumbent_cost:
        incumbent, incumbent_cost = uniform[np.argmin(uniform_costs)], float(uniform_costs.min())
    warnings.warn(
        f"task {task_index}: HiGHS did not prove its placement within a relative gap of "
        f"{MILP_GAP:g} ({result.message}) and n = {n} is beyond exhaustive search; its label "
        "is the best placement found, marked not exact",
        RuntimeWarning,
        stacklevel=3,
    )
    return _Solved(incumbent, incumbent_cost, min(bound, incumbent_cost), False)


@dataclass(frozen=True)
class _MilpModel:
    c: np.ndarray
    integrality: np.ndarray
    bounds: Bounds
    constraints: LinearConstraint
    constant: float  # the objective's part that no variable carries, in units
    unit: float  # the cost of one unit of the scaled objective


def _milp_model(
    task: DagBatch, objective: Objective, fixed: np.ndarray, reference: float
) -> _MilpModel:
    """SPEC-DAG section 3's program in units of ``reference`` (a placement's cost > 0), so
    that HiGHS's absolute tolerances mean the same at every scale of seconds and joules.

    Every term a placement can pay (a run, a transfer, a joule) is at most its cost, so a
    term above twice the reference is clipped there: any placement paying it costs more
    than twice the reference and cannot be optimal, in the clipped program or the true one,
    while the coefficients stay within a few orders of magnitude HiGHS accepts.
    """
    n = task.n_subtasks
    sources, targets = np.nonzero(task.edges[0])
    m = len(sources)
    # Variables: z1 (n), z2 (n), finish (n), pos1 (m), neg1 (m), abs2 (m), makespan T.
    z1, z2, finish = np.arange(n), n + np.arange(n), 2 * n + np.arange(n)
    pos1, neg1, abs2 = 3 * n + np.arange(m), 3 * n + m + np.arange(m), 3 * n + 2 * m + np.arange(m)
    makespan = 3 * n + 3 * m
    size = makespan + 1
    w = objective.latency_share
    b1, b2 = float(task.edge_bandwidth[0]), float(task.cloud_bandwidth[0])
    inputs, outputs = task.input_data[0], task.output_data[0]
    moved = task.edge_data[0, sources, targets]

    def clipped(values: np.ndarray | float, scale: float) -> np.ndarray:
        return np.minimum(np.asarray(values, dtype=np.float64) * scale, _CLIP)

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

    row([(z2, 1.0), (z1, -1.0)], 0.0, n)  # z2 <= z1: the cloud is beyond the edge
    c = np.zeros(size)
    if w > 0.0:  # times, in units of reference / w seconds
        t = w / reference
        run = clipped(run_seconds(task)[0], t)  # (n, 3): device, edge, cloud
        gain_edge, gain_cloud = run[:, 1] - run[:, 0], run[:, 2] - run[:, 1]
        # The task's input reaches v: finish[v] >= input[v] (z1/b1 + z2/b2) + run[v], where
        # run = device + (edge - device) z1 + (cloud - edge) z2.
        row(
            [
                (z1, clipped(inputs / b1, t) + gain_edge),
                (z2, clipped(inputs / b2, t) + gain_cloud),
                (finish, -1.0),
            ],
            -run[:, 0],
            n,
        )
        if m:
            # finish[v] >= finish[u] + moved (|dz1| / b1 + |dz2| / b2) + run[v]
            to_edge, to_cloud = clipped(moved / b1, t), clipped(moved / b2, t)
            row(
                [
                    (finish[sources], 1.0),
                    (finish[targets], -1.0),
                    (pos1, to_edge),
                    (neg1, to_edge),
                    (abs2, to_cloud),
                    (z1[targets], gain_edge[targets]),
                    (z2[targets], gain_cloud[targets]),
                ],
                -run[targets, 0],
                m,
            )
        row(
            [
                (finish, 1.0),
                (z1, clipped(outputs / b1, t)),
                (z2, clipped(outputs / b2, t)),
                (makespan, -1.0),
            ],
            0.0,
            n,
        )
        c[makespan] = 1.0
    if m:  # pos1 - neg1 = z1[v] - z1[u], abs2 >= |z2[v] - z2[u]|
        row([(z1[targets], 1.0), (z1[sources], -1.0), (pos1, -1.0)], 0.0, m)
        row([(z1[sources], 1.0), (z1[targets], -1.0), (neg1, -1.0)], 0.0, m)
        row([(z2[targets], 1.0), (z2[sources], -1.0), (abs2, -1.0)], 0.0, m)
        row([(z2[sources], 1.0), (z2[targets], -1.0), (abs2, -1.0)], 0.0, m)
    constant = 0.0
    if w < 1.0:  # the device's joules, linear in z1 and the pos/neg parts
        e = (1.0 - w) / reference
        tx, rx = objective.tx_power / b1, objective.rx_power / b1
        device_run = clipped(device_joules(objective, task.cycles[0], float(task.device_hz[0])), e)
        constant = float(device_run.sum())
        c[z1] += -device_run + clipped(inputs * tx, e) + clipped(outputs * rx, e)
        if m:
            c[pos1] += clipped(moved * tx, e)
            c[neg1] += clipped(moved * rx, e)
    matrix = sparse.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(upper), size),
    )
    integrality = np.zeros(size)
    integrality[: 2 * n] = 1
    lower = np.zeros(size)
    high = np.full(size, np.inf)
    high[: 2 * n] = 1.0
    chosen = np.flatnonzero(fixed >= 0)  # places already chosen: z1 = [>= edge], z2 = [cloud]
    for z, threshold in ((z1, 1), (z2, 2)):
        value = (fixed[chosen] >= threshold).astype(float)
        lower[z[chosen]] = value
        high[z[chosen]] = value
    return _MilpModel(
        c,
        integrality,
        Bounds(lower, high),
        LinearConstraint(matrix, -np.inf, np.array(upper)),
        constant,
        reference,
    )


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
    sweeps = check_count("sweeps", sweeps, 0)
    milp_result = solve_milp(dags, objective)
    if dags.n_subtasks <= MAX_EXHAUSTIVE_CONTENTION:
        decisions = exhaustive(dags, objective, contention=True)
        return BestKnown(
            decisions,
            cost(dags, decisions, objective, contention=True),
            milp_result.lower_bound,
            True,
        )
    candidates = [milp_result.decisions, heft(dags, contention=True)]
    found = [local_search(dags, start, objective, sweeps=sweeps) for start in candidates]
    costs = np.stack([cost(dags, d, objective, contention=True) for d in found])
    pick = costs.argmin(axis=0)
    rows = np.arange(len(dags))
    decisions = np.stack(found)[pick, rows]
    return BestKnown(decisions, costs[pick, rows], milp_result.lower_bound, False)


def local_search(
    dags: DagBatch, start: np.ndarray, objective: str | Objective = "latency", *, sweeps: int = 4
) -> np.ndarray:
    """Single-subtask moves with contention, kept where they lower a task's cost (at most
    ``sweeps`` passes over the subtasks)."""
    sweeps = check_count("sweeps", sweeps, 0)
    current = check_decisions_dag(dags, start).astype(np.int64)
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
        finishes, _ = timeline.options(v)  # (N, 3): its finish at each place
        timeline.add(v, finishes.argmin(axis=1))
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
