"""Exact and heuristic offloading policies over a :class:`~gym_mecoffload.chain.model.TaskBatch`.

Every solver takes a batch (and an objective) and returns int8 decisions of
shape (N, n): 0 device, 1 edge, 2 cloud (SPEC sections 2 and 3).

The cost of a decision is a sum over adjacent pairs of a chain, so the exact
optimum is a shortest path through an n x 3 trellis: :func:`optimal` solves it
by dynamic programming in O(9n) per task. :func:`exhaustive` is the paper's
"Optimal" (all 3**n decisions) and the reference the DP is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from gym_mecoffload.chain.model import (
    LinkCosts,
    TaskBatch,
    links_one,
    previous_places,
    require_batch,
    stage_costs,
    stage_costs_one,
    step_costs,
)
from gym_mecoffload.core.checks import check_indices
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.topology import CLOUD, DEVICE, EDGE, N_PLACES, PLACES

DECISION_DTYPE = np.int8

# 3**14 = 4,782,969 decisions: about 67 MB of int8 decision table, and a cost
# matrix of that many float64 per task in each chunk. Beyond this use `optimal`.
MAX_EXHAUSTIVE_SUBTASKS = 14
_EXHAUSTIVE_CHUNK_ELEMENTS = 2**22  # tasks x decisions evaluated at once (32 MB per float64 array)


def _backward(
    batch: TaskBatch, objective: str | Objective, slots: Slots | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """The DP from the last subtask to the first, one subtask at a time.

    Yields ``(t, q, best)``: ``q[prev, p, i]`` (3, 3, N) is the link of
    subtask t plus the best cost to go after it, ``best[prev, i]`` (3, N) the
    place p that minimises it, ties to the lowest index.
    """
    links = LinkCosts(batch, objective, slots)
    to_go = None  # (3, N): best cost from each place of subtask t onwards
    for t in range(batch.n_subtasks - 1, -1, -1):
        q = links(t, then=to_go)
        # min and argmin over p by two comparisons: numpy's argmin over a short axis loops per element.
        on_device, on_edge, in_cloud = q[:, DEVICE], q[:, EDGE], q[:, CLOUD]
        nearer = np.minimum(on_device, on_edge)
        best = (on_edge < on_device).view(DECISION_DTYPE)  # bool and int8 share their bytes
        np.putmask(best, in_cloud < nearer, CLOUD)
        to_go = np.minimum(nearer, in_cloud)
        yield t, q, best


def optimal_q(batch: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """The DP's action values, shape (N, n, 3, 3).

    ``q[i, t, prev, p]`` is the least cost of finishing task i when subtask
    t - 1 sits at place ``prev`` (the device for t = 0), subtask t is put at
    ``p`` and every later subtask is placed optimally: the link of
    :class:`~gym_mecoffload.chain.model.LinkCosts` plus the best cost to go.
    ``q[i, 0, DEVICE].min()`` is the optimal cost.
    """
    q = np.empty((require_batch(batch).n_subtasks, N_PLACES, N_PLACES, batch.n_tasks))
    for t, q_t, _ in _backward(batch, objective):
        q[t] = q_t
    return np.moveaxis(q, -1, 0)


# Tasks per DP chunk: its tables then stay in the CPU cache, which makes the DP
# several times faster than one pass over a large batch.
_DP_CHUNK = 8192


def optimal(
    batch: TaskBatch, objective: str | Objective = "latency", slots: Slots | None = None
) -> np.ndarray:
    """Exact optimum by dynamic programming over the n x 3 trellis, O(9n) per task.

    Ties go to the lowest place index at each step (device before edge before cloud).
    With ``slots`` (a fluctuating channel's realisation), the optimum on those slots:
    the clairvoyant decision of SPEC-CHANNELS, which knows the whole future.
    """
    n = require_batch(batch).n_subtasks
    decisions = np.empty((n, batch.n_tasks), dtype=DECISION_DTYPE)
    best = np.empty((n, N_PLACES, min(batch.n_tasks, _DP_CHUNK)), dtype=DECISION_DTYPE)
    for start in range(0, batch.n_tasks, _DP_CHUNK):
        whole = batch.n_tasks <= _DP_CHUNK
        chunk = batch if whole else batch[start : start + _DP_CHUNK]
        chunk_slots = slots if whole or slots is None else slots[start : start + _DP_CHUNK]
        for t, _, best_t in _backward(chunk, objective, chunk_slots):
            best[t, :, : len(chunk)] = best_t
        place = best[0, DEVICE, : len(chunk)]
        decisions[0, start : start + len(chunk)] = place
        for t in range(1, n):
            # best[t, prev] at each task's own prev, by selection rather than fancy indexing.
            table = best[t, :, : len(chunk)]
            place = np.where(
                place == DEVICE, table[DEVICE], np.where(place == EDGE, table[EDGE], table[CLOUD])
            )
            decisions[t, start : start + len(chunk)] = place
    return decisions.T.copy()


def optimal_next_place(
    batch: TaskBatch,
    step: np.ndarray | int,
    previous_place: np.ndarray | int,
    objective: str | Objective = "latency",
) -> np.ndarray:
    """The optimal place of subtask ``step`` when subtask ``step - 1`` sits at ``previous_place``.

    An expert that answers in any state an agent reaches, not only on the
    optimal path (the DP's cost to go). ``step`` and ``previous_place`` are
    scalars or (N,) arrays; the result is (N,) int8.
    """
    n_tasks, n = require_batch(batch).n_tasks, batch.n_subtasks
    step = check_indices("step", step, n_tasks, n, f"subtask indices for tasks of {n} subtasks")
    previous_place = check_indices(
        "previous_place", previous_place, n_tasks, N_PLACES, "places 0, 1 or 2"
    )
    q = optimal_q(batch, objective)
    rows = np.arange(n_tasks)
    return q[rows, step, previous_place].argmin(axis=1).astype(DECISION_DTYPE)


def all_decisions(n_subtasks: int) -> np.ndarray:
    """Every decision for n subtasks, shape (3**n, n), in lexicographic order."""
    if not 1 <= n_subtasks <= MAX_EXHAUSTIVE_SUBTASKS:
        raise ValueError(
            f"exhaustive search enumerates 3**n decisions and allows 1 <= n <= "
            f"{MAX_EXHAUSTIVE_SUBTASKS} (3**{MAX_EXHAUSTIVE_SUBTASKS} = "
            f"{N_PLACES**MAX_EXHAUSTIVE_SUBTASKS:,} decisions); got n = {n_subtasks}. "
            "solvers.optimal is exact too and linear in n."
        )
    grid = np.indices((N_PLACES,) * n_subtasks, dtype=DECISION_DTYPE)
    return grid.reshape(n_subtasks, -1).T.copy()


def exhaustive(batch: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """Exact optimum by trying all 3**n decisions (the paper's "Optimal"), O(n 3**n) per task.

    Ties go to the lexicographically first decision. Raises ``ValueError`` for
    n > ``MAX_EXHAUSTIVE_SUBTASKS``.
    """
    candidates = all_decisions(require_batch(batch).n_subtasks).astype(np.intp)  # (K, n)
    previous = previous_places(candidates)
    steps = np.moveaxis(step_costs(batch, objective), 0, -1)  # (n, 3, 3, N), contiguous
    chunk = max(1, _EXHAUSTIVE_CHUNK_ELEMENTS // len(candidates))
    best = np.empty(batch.n_tasks, dtype=np.intp)
    for start in range(0, batch.n_tasks, chunk):
        window = slice(start, start + chunk)
        totals = np.zeros((len(candidates), len(best[window])))
        for t in range(batch.n_subtasks):
            totals += steps[t, previous[:, t], candidates[:, t], window]
        best[window] = totals.argmin(axis=0)
    return candidates[best].astype(DECISION_DTYPE)


def greedy(batch: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """Place subtasks one by one, each where its execution plus its input's transfer is least.

    The return of the output to the device is not looked ahead (SPEC section 3).
    """
    run, per_byte = stage_costs(batch, objective)
    rows = np.arange(batch.n_tasks)
    decisions = np.empty((batch.n_tasks, batch.n_subtasks), dtype=DECISION_DTYPE)
    previous = np.full(batch.n_tasks, DEVICE)
    for t in range(batch.n_subtasks):
        step_cost = run[:, t] + batch.data[:, t, None] * per_byte[rows, previous]
        previous = step_cost.argmin(axis=1)
        decisions[:, t] = previous
    return decisions


def _everywhere(batch: TaskBatch, place: int) -> np.ndarray:
    require_batch(batch)
    return np.full((batch.n_tasks, batch.n_subtasks), place, dtype=DECISION_DTYPE)


def local(batch: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """Every subtask on the end device."""
    return _everywhere(batch, DEVICE)


def edge(batch: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """Every subtask on the edge server."""
    return _everywhere(batch, EDGE)


def cloud(batch: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """Every subtask in the cloud."""
    return _everywhere(batch, CLOUD)


def random(batch: TaskBatch, rng: np.random.Generator) -> np.ndarray:
    """Every subtask's place uniformly at random, drawn only from ``rng``."""
    require_batch(batch)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    return rng.integers(0, N_PLACES, size=(batch.n_tasks, batch.n_subtasks), dtype=DECISION_DTYPE)


# Single-task paths. Deciding one task online, numpy's per-call overhead on
# arrays of a few elements costs far more than the arithmetic (about 150 us
# against 15 us for the DP), so these run in plain Python on the same link
# costs, with the same operations and tie-breaking as the batch solvers: they
# return the same decisions (tested).


PLACE_INDICES = tuple(range(N_PLACES))


def _decision(places: list[int]) -> np.ndarray:
    return np.array(places, dtype=DECISION_DTYPE)


def optimal_one(task: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """:func:`optimal` for a batch of one task, in plain Python: the decision (n,)."""
    run, per_byte, data = stage_costs_one(task, objective)
    n = len(run)
    best: list[list[int]] = [[]] * n
    to_go = None
    for t in range(n - 1, -1, -1):
        at_place = run[t]
        if t == n - 1:
            at_place = [at_place[p] + data[n] * per_byte[p][DEVICE] for p in range(N_PLACES)]
        if to_go is not None:
            at_place = [at_place[p] + to_go[p] for p in range(N_PLACES)]
        amount = data[t]
        best_t, to_go = [], []
        for row in per_byte:
            on_device = amount * row[DEVICE] + at_place[DEVICE]
            on_edge = amount * row[EDGE] + at_place[EDGE]
            in_cloud = amount * row[CLOUD] + at_place[CLOUD]
            # Ties to the lowest index, as the batch DP's comparisons.
            place, value = (EDGE, on_edge) if on_edge < on_device else (DEVICE, on_device)
            if in_cloud < value:
                place, value = CLOUD, in_cloud
            best_t.append(place)
            to_go.append(value)
        best[t] = best_t
    places, place = [], DEVICE
    for t in range(n):
        place = best[t][place]
        places.append(place)
    return _decision(places)


def greedy_one(task: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """:func:`greedy` for a batch of one task, in plain Python: the decision (n,)."""
    run, per_byte, data = stage_costs_one(task, objective)
    places, previous = [], DEVICE
    for t, run_t in enumerate(run):
        row, amount = per_byte[previous], data[t]
        costs = [run_t[p] + amount * row[p] for p in range(N_PLACES)]
        previous = min(range(N_PLACES), key=costs.__getitem__)  # first minimum, as argmin
        places.append(previous)
    return _decision(places)


def exhaustive_one(task: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
    """:func:`exhaustive` for a batch of one task, in plain Python: the decision (n,).

    Extends every prefix by one subtask at a time, in lexicographic order, so
    each prefix's cost is computed once; the first least total wins, as in the
    batch path.
    """
    links = links_one(task, objective)
    n = len(links)
    if n > MAX_EXHAUSTIVE_SUBTASKS:
        all_decisions(n)  # raises the batch path's error
    totals, lasts = [0.0], [DEVICE]  # every prefix's cost and last place, lexicographic
    for link in links:
        totals = [
            total + link[last][p]
            for total, last in zip(totals, lasts, strict=True)
            for p in PLACE_INDICES
        ]
        lasts = list(PLACE_INDICES) * (len(totals) // N_PLACES)
    index = totals.index(min(totals))  # the first least total, as the batch argmin
    return _decision([index // N_PLACES**k % N_PLACES for k in range(n - 1, -1, -1)])


# The deterministic solvers by name, as the paper calls them (Sec. 5.1).
SOLVERS = {
    "optimal": optimal,
    "exhaustive": exhaustive,
    "greedy": greedy,
    "local": local,
    "edge": edge,
    "cloud": cloud,
}


def _everywhere_one(place: int) -> Callable[..., np.ndarray]:
    def decide(task: TaskBatch, objective: str | Objective = "latency") -> np.ndarray:
        return np.full(require_batch(task, "task").n_subtasks, place, dtype=DECISION_DTYPE)

    decide.__doc__ = (
        f"Every subtask of a batch of one task on the {PLACES[place]}: the decision (n,)."
    )
    return decide


# Their single-task paths, for ``decide_one``: the decision (n,) of a batch of one task.
SINGLE_TASK_SOLVERS = {
    "optimal": optimal_one,
    "exhaustive": exhaustive_one,
    "greedy": greedy_one,
    "local": _everywhere_one(DEVICE),
    "edge": _everywhere_one(EDGE),
    "cloud": _everywhere_one(CLOUD),
}
