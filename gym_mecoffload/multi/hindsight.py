"""The hindsight expert (SPEC-MULTI section 6): the best placements for ONE realised
episode, everything random known (arrivals, every link's rate per slot, every transfer's
attempts, each slot's order of users), as a mixed-integer linear program solved by HiGHS
(SciPy's ``milp``).

The program. Tasks are numbered in dispatch order (slot by slot; within a slot, higher
class weight first, then the slot's random order: the core's order). Binaries
``x[i, p]`` pick task i's place p (``0`` device, ``1 + s`` edge s, ``1 + S + s`` the cloud
through s). Every contended resource (each device CPU, each user's radio, each sub-channel
of a server with finitely many, each edge CPU) is a chain of continuous free-at times, one
after each task in dispatch order: ``F_r^i >= F_r^{i-1}``; a task that uses r starts at or
after ``F_r^{i-1}`` and after its readiness, ends a duration later, and ``F_r^i`` is at
least that end (big-M terms switch the conditional rows off). The cost is the core's
(SPEC-MULTI section 4): ``latency`` (``class_weight * latency``; a drop costs
``class_weight * drop_penalty``), ``energy`` (the device's joules) or ``weighted``
(``w * latency cost + (1 - w) * energy``, w = ``constants.latency_weight``). Units: times
in seconds; the objective is scaled by an upper bound on the optimum (the cheapest of a
few simple placements, simulated), as the DAG family's MILP does, so HiGHS's absolute
tolerances mean the same at every scale.

Valid inequalities tighten the relaxation without changing the optimum: per resource,
cumulative window rows (the completion of task i is at least a release before it plus
the exact sum of the work of the tasks between, see ``_Model._windows``).

Every row is a ``>=`` on times, and every objective is nondecreasing in every time, so
the program's optimum equals the episode's optimum wherever the core's rules are
monotone. They are not, and the program is then a RELAXATION (its value a lower bound
on every policy's cost on the episode, never above the optimum), where:

* a server has 2 or more sub-channels, but fewer than the episode's tasks: the core
  takes the earliest free one; the program may book any (and a later-free one can be
  better, so the core's rule is not optimal);
* a server's buffer is smaller than the episode's tasks: the program may drop any task
  placed on that edge (it then costs the penalty, uses the radio and a sub-channel and
  books neither the edge CPU nor the downlink), whether or not the buffer is full;
* the rate of a leg (up or down) of some task differs between the slots where that leg
  could start (fluctuating channels: ``iid``, ``markov``, ``rayleigh``): the leg lasts
  the least it could, ``attempts * bytes / (the best rate over those slots)``, and the
  device's radio energy likewise.

So the program is EXACT for an episode whose every server has unlimited sub-channels, one
sub-channel, or at least as many as the episode's tasks, whose every buffer is unlimited
or holds at least the episode's tasks, and whose links are static over the slots where
each leg could start (:attr:`HindsightResult.model_exact`). Otherwise it is a bound.

What :func:`hindsight` returns. The program's placements are replayed through
:class:`~gym_mecoffload.multi.core.MultiCore` (the cost is simulated, never the program's
value), and the cheapest of them and the simple placements behind the upper bound
(all on the device, all on each edge, all to the cloud through each server, and a greedy
rule: each task, in dispatch order, takes the place of its least cost given the bookings
before it) is returned. The lower bound is HiGHS's proved dual bound (exact within
:data:`MILP_GAP`, HiGHS's tolerances). The placement is ``exact`` (proved optimal) when
its simulated cost is within :data:`MILP_GAP` (relative) of that bound: for an exact
program this happens whenever HiGHS proves optimality in time; for a relaxation it can
still happen (then the relaxation's optimum is reached by the core, which proves the
placement optimal as well). When the gap stays open and the episode has at most
:data:`MAX_EXHAUSTIVE_PLACEMENTS` placements, exhaustive search through the core decides
(``exact`` True, ``lower_bound`` the optimum); otherwise ``exact`` is False.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import NO_TASK, MultiCore
from gym_mecoffload.multi.model import MultiEpisodes, MultiScenario

HINDSIGHT_OBJECTIVES = ("latency", "energy", "weighted")
# A placement is proved optimal when its simulated cost is within this relative gap of the
# bound HiGHS proves (as the DAG family's MILP: HiGHS aims at 1e-9; its bound carries its
# feasibility tolerance).
MILP_GAP = 1e-6
MAX_EXHAUSTIVE_PLACEMENTS = 20_000  # the fallback's limit: (1 + 2S)^tasks placements
_EXHAUSTIVE_CHUNK = 4_096  # placements replayed at once
# The window cuts' reach, in tasks back along one resource's chain (a user's device CPU
# and radio; an edge CPU, where the rows are longer and more numerous).
WINDOW = 40
EDGE_WINDOW = 10
_MILP_ATTEMPTS = (
    {"mip_rel_gap": 1e-9, "presolve": True},
    {"mip_rel_gap": 1e-9, "presolve": False},
)


@dataclass(frozen=True)
class HindsightResult:
    """The best placements found for one episode (see the module docstring).

    Attributes:
        places: (T, U) int: the place of user u's task in slot t; ``NO_TASK`` (-1) where u
            has no task in slot t (as the core records it).
        cost: the objective's cost of ``places`` on the episode, replayed through
            :class:`MultiCore` (seconds for ``latency``, joules for ``energy``).
        lower_bound: a proved lower bound on every policy's cost on the episode (HiGHS's
            dual bound, within :data:`MILP_GAP`; the optimum itself when exhaustive search
            decided), never above ``cost``.
        exact: ``places`` is proved optimal: ``cost`` within :data:`MILP_GAP` (relative) of
            ``lower_bound``.
        model_exact: the program is exact for this episode (module docstring), not a
            relaxation.
        seconds: wall-clock seconds spent (simple placements, HiGHS, any fallback).
        milp_seconds: of those, the seconds spent in HiGHS.
        tasks: the episode's tasks.
    """

    places: np.ndarray
    cost: float
    lower_bound: float
    exact: bool
    model_exact: bool
    seconds: float
    milp_seconds: float
    tasks: int


def hindsight(
    scenario: MultiScenario,
    episodes: MultiEpisodes,
    b: int = 0,
    objective: str = "latency",
    constants: Objective | None = None,
    time_limit: float = 60.0,
) -> HindsightResult:
    """The best placements of system ``b``'s episode of ``episodes`` under ``objective``
    (``latency``, ``energy`` or ``weighted``), with the energy model's ``constants``
    (default ``Objective(objective)`` for ``energy`` and ``weighted``, else
    ``Objective()``); HiGHS stops after ``time_limit`` seconds per solve."""
    started = time.perf_counter()
    if objective not in HINDSIGHT_OBJECTIVES:
        raise ValueError(
            f"hindsight supports the objectives {HINDSIGHT_OBJECTIVES}; got {objective!r} "
            "(aoi and deadline are not sums of per-task costs nondecreasing in time)"
        )
    if isinstance(b, (bool, np.bool_)) or not isinstance(b, (int, np.integer)):
        raise ValueError(f"b must be an integer index of a system; got {b!r}")
    if not 0 <= int(b) < episodes.size:
        raise ValueError(f"b must be in [0, {episodes.size}); got {b!r}")
    b = int(b)
    if not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise ValueError(f"time_limit must be a number of seconds > 0; got {time_limit!r}")
    if constants is None:
        constants = Objective(objective if objective != "latency" else "latency")
    if not isinstance(constants, Objective):
        raise ValueError(f"constants must be an Objective; got {constants!r}")
    if episodes.arrive.shape[1:] != (scenario.horizon, scenario.users):
        raise ValueError("episodes were not drawn for this scenario (horizon, users)")
    one = episodes.select(np.array([b]))
    tasks = _Tasks(scenario, one)
    n_places = scenario.n_places
    if tasks.n == 0:
        places = np.full((scenario.horizon, scenario.users), NO_TASK, dtype=np.int64)
        return HindsightResult(places, 0.0, 0.0, True, True, time.perf_counter() - started, 0.0, 0)

    # Upper bound: the cheapest of the simple placements, simulated.
    candidates = [tasks.uniform(p) for p in range(n_places)]
    candidates.append(_greedy(scenario, one, objective, constants, tasks))
    costs = _replay(scenario, one, objective, constants, np.stack(candidates))
    best = int(np.argmin(costs))
    incumbent, incumbent_cost = candidates[best], float(costs[best])
    milp_seconds = 0.0
    bound = 0.0
    model = None
    if incumbent_cost > 0.0:
        model = _Model(scenario, tasks, one, objective, constants, incumbent_cost)
        for options in _MILP_ATTEMPTS:
            t0 = time.perf_counter()
            result = milp(
                model.c,
                integrality=model.integrality,
                bounds=model.bounds,
                constraints=model.constraints,
                options={**options, "time_limit": float(time_limit)},
            )
            milp_seconds += time.perf_counter() - t0
            if result.x is not None:
                places = model.places(result.x)
                value = float(_replay(scenario, one, objective, constants, places[None])[0])
                if value < incumbent_cost:
                    incumbent, incumbent_cost = places, value
            dual = getattr(result, "mip_dual_bound", None)
            if dual is not None and np.isfinite(dual):
                bound = max(bound, (float(dual) + model.constant) * model.unit)
            if result.success or result.x is not None:
                break
    model_exact = model.exact if model is not None else True
    if bound > incumbent_cost * (1 + MILP_GAP) + 1e-12:  # never: the program is a relaxation
        raise RuntimeError(
            f"hindsight's proved bound {bound!r} is above the simulated cost {incumbent_cost!r} "
            "of a placement: the program is not a relaxation of the core (a bug)"
        )
    exact = incumbent_cost - bound <= MILP_GAP * incumbent_cost
    if not exact and n_places**tasks.n <= MAX_EXHAUSTIVE_PLACEMENTS:
        places, value = _exhaustive(scenario, one, objective, constants, tasks)
        if value < incumbent_cost:
            incumbent, incumbent_cost = places, value
        bound, exact = incumbent_cost, True
    return HindsightResult(
        incumbent,
        incumbent_cost,
        min(bound, incumbent_cost),
        bool(exact),
        bool(model_exact),
        time.perf_counter() - started,
        milp_seconds,
        tasks.n,
    )


# ---------------------------------------------------------------------------- the tasks


class _Tasks:
    """One episode's tasks in dispatch order, with their fields (SI units)."""

    def __init__(self, sc: MultiScenario, ep: MultiEpisodes) -> None:
        T, U = sc.horizon, sc.users
        slots, users = [], []
        for t in range(T):
            order = ep.order[0, t]
            position = np.empty(U, dtype=np.int64)
            position[order] = np.arange(U)
            has = np.flatnonzero(ep.arrive[0, t])
            weight = sc.class_weights[ep.k[0, t, has]]
            for u in has[np.lexsort((position[has], -weight))]:
                slots.append(t)
                users.append(int(u))
        self.n = len(slots)
        self.T, self.U, self.S = T, U, sc.servers
        self.slot = np.array(slots, dtype=np.int64)
        self.user = np.array(users, dtype=np.int64)
        idx = (0, self.slot, self.user)
        self.a = self.slot * sc.slot_seconds
        self.cycles = ep.cycles[idx]
        self.input_data = ep.input_data[idx]
        self.output_data = ep.output_data[idx]
        self.deadline = ep.deadline[idx]
        self.weight = sc.class_weights[ep.k[idx]]
        self.attempts = ep.attempts[idx].astype(np.float64)  # (n, 4)

    def uniform(self, place: int) -> np.ndarray:
        """(T, U) every task on ``place``, ``NO_TASK`` elsewhere."""
        out = np.full((self.T, self.U), NO_TASK, dtype=np.int64)
        out[self.slot, self.user] = place
        return out

    def grid(self, choice: np.ndarray) -> np.ndarray:
        """(k, T, U) from (k, n) places of the tasks in dispatch order."""
        out = np.full((len(choice), self.T, self.U), NO_TASK, dtype=np.int64)
        out[:, self.slot, self.user] = choice
        return out


# ---------------------------------------------------------------------------- replays


def _replay(
    sc: MultiScenario,
    one: MultiEpisodes,
    objective: str,
    constants: Objective,
    places: np.ndarray,
) -> np.ndarray:
    """The cost (k,) of each of k placements (k, T, U) of the episode ``one``, simulated by
    the core (k systems at once)."""
    k = len(places)
    core = MultiCore(sc, objective, constants, k)
    core.reset(one.select(np.zeros(k, dtype=np.intp)))
    total = np.zeros(k)
    for t in range(sc.horizon):
        total += core.step(np.maximum(places[:, t], 0)).cost.sum(axis=1)
    return total


def _greedy(
    sc: MultiScenario,
    one: MultiEpisodes,
    objective: str,
    constants: Objective,
    tasks: _Tasks,
) -> np.ndarray:
    """Each task in dispatch order takes the place of its least cost given the bookings
    before it (those of later tasks do not change it): one system per place, evaluated
    at once, then the chosen place committed in all of them."""
    P = sc.n_places
    core = MultiCore(sc, objective, constants, P)
    core.reset(one.select(np.zeros(P, dtype=np.intp)))
    out = tasks.uniform(0)
    every = np.arange(P)
    for t in range(sc.horizon):
        slot = core.open_slot()
        for i in range(int(slot.count[0])):
            costs = core.booking_cost(slot, core.evaluate(slot, i, every))
            best = int(np.argmin(costs))
            core.commit(slot, core.evaluate(slot, i, np.full(P, best)))
            out[t, int(slot.seq[0, i])] = best
        core.close_slot(slot)
    return out


def _exhaustive(
    sc: MultiScenario,
    one: MultiEpisodes,
    objective: str,
    constants: Objective,
    tasks: _Tasks,
) -> tuple[np.ndarray, float]:
    """The cheapest of all placements (ties to the first in lexicographic order of the
    tasks in dispatch order) and its cost."""
    every = np.array(list(itertools.product(range(sc.n_places), repeat=tasks.n)), dtype=np.int64)
    best, best_cost = None, math.inf
    for start in range(0, len(every), _EXHAUSTIVE_CHUNK):
        grids = tasks.grid(every[start : start + _EXHAUSTIVE_CHUNK])
        costs = _replay(sc, one, objective, constants, grids)
        j = int(np.argmin(costs))
        if costs[j] < best_cost:
            best, best_cost = grids[j], float(costs[j])
    assert best is not None
    return best, best_cost


# ---------------------------------------------------------------------------- the program


class _Model:
    """The program of the module docstring, in units of ``reference`` (a simulated cost
    > 0, an upper bound on the optimum): ``c``, ``integrality``, ``bounds``,
    ``constraints``; a solution's value times ``unit`` plus ``constant * unit`` is a cost.
    """

    def __init__(
        self,
        sc: MultiScenario,
        tasks: _Tasks,
        one: MultiEpisodes,
        objective: str,
        constants: Objective,
        reference: float,
    ) -> None:
        n, S = tasks.n, sc.servers
        P = sc.n_places
        self.n, self.P = n, P
        self.unit = reference
        self._tasks = tasks
        device_hz, edge_hz = one.device_hz[0], one.edge_hz[0]
        w_lat = {"latency": 1.0, "energy": 0.0}.get(objective, constants.latency_weight)
        w_en = 1.0 - w_lat
        a, wt = tasks.a, tasks.weight
        att = tasks.attempts
        din, dout, cyc = tasks.input_data, tasks.output_data, tasks.cycles
        dt = sc.slot_seconds
        # Effective sizes: sub-channels / buffer places at least the tasks count as unlimited.
        channels = np.where(sc.uplink_channels >= n, 0, sc.uplink_channels)
        buffers = np.where(sc.buffer >= n, 0, sc.buffer)

        # Durations (n, S), seconds; upper bounds first (every slot from the arrival's).
        rates = one.bandwidth[0]  # (K, U, S), bytes/s
        K = rates.shape[0]
        first = np.minimum(tasks.slot, K - 1)
        user_rates = rates[:, tasks.user, :]  # (K, n, S)
        later = np.arange(K)[:, None] >= first[None, :]  # (K, n)
        slow = np.where(later[..., None], user_rates, np.inf).min(axis=0)  # (n, S)
        dev = cyc / device_hz[tasks.user]  # (n,)
        run = cyc[:, None] / edge_hz[None, :]  # (n, S)
        cbw = one.cloud_bandwidth[0][None, :]
        cloud = (
            att[:, 1:2] * din[:, None] / cbw
            + cyc[:, None] / sc.cloud_hz
            + att[:, 2:3] * dout[:, None] / cbw
        )
        up_hi = att[:, 0:1] * din[:, None] / slow
        dn_hi = att[:, 3:4] * dout[:, None] / slow
        total_hi = np.concatenate(
            [dev[:, None], up_hi + run + dn_hi, up_hi + cloud + dn_hi], axis=1
        )  # (n, P)
        # H: no time of the optimum's timeline (nor of any timeline) lies beyond it.
        horizon_all = a.max() + total_hi.max(axis=1).sum()
        H = horizon_all
        if w_lat > 0.0:
            droppable = buffers > 0
            drops = up_hi[:, droppable].max(axis=1).sum() if droppable.any() else 0.0
            H = min(H, a.max() + reference / (w_lat * wt.min()) + drops)
        last = min(K - 1, int(math.floor(H / dt)) + 1)
        window = later & (np.arange(K)[:, None] <= last)  # (K, n)
        fast = np.where(window[..., None], user_rates, -np.inf).max(axis=0)  # (n, S)
        slow_w = np.where(window[..., None], user_rates, np.inf).min(axis=0)
        up = att[:, 0:1] * din[:, None] / fast
        dn = att[:, 3:4] * dout[:, None] / fast
        static = bool(np.all(fast == slow_w))
        self.exact = static and bool(np.all(channels <= 1)) and bool(np.all(buffers == 0))
        up_hi = att[:, 0:1] * din[:, None] / slow_w  # within the window, for the big-M terms
        dn_hi = att[:, 3:4] * dout[:, None] / slow_w

        # Variables.
        lower: list[float] = []
        upper: list[float] = []
        integer: list[int] = []

        def var(count: int, lo: float = 0.0, hi: float = math.inf, binary: bool = False):
            start = len(lower)
            lower.extend([lo] * count)
            upper.extend([1.0 if binary else hi] * count)
            integer.extend([1 if binary else 0] * count)
            return np.arange(start, start + count)

        x = var(n * P, binary=True).reshape(n, P)
        q = np.full((n, S), -1, dtype=np.int64)
        for s in np.flatnonzero(buffers > 0):
            q[:, s] = var(n, binary=True)
        self.x = x
        rows_i: list[int] = []
        cols_i: list[int] = []
        vals: list[float] = []
        row_lo: list[float] = []
        row_hi: list[float] = []

        def row(entries: list[tuple[int, float]], lo: float, hi: float = math.inf) -> None:
            r = len(row_lo)
            for col, value in entries:
                if value != 0.0:
                    rows_i.append(r)
                    cols_i.append(int(col))
                    vals.append(float(value))
            row_lo.append(lo)
            row_hi.append(hi)

        for i in range(n):
            row([(x[i, p], 1.0) for p in range(P)], 1.0, 1.0)
            for s in np.flatnonzero(buffers > 0):
                row([(x[i, 1 + s], 1.0), (q[i, s], -1.0)], 0.0)  # q <= x(edge s)

        # The objective, in units of reference.
        c = np.zeros(len(lower))
        constant = 0.0
        e_dev = constants.kappa * cyc * device_hz[tasks.user] ** 2
        e_up = constants.tx_power * up
        e_dn = constants.rx_power * dn
        if w_en > 0.0:
            c[x[:, 0]] += w_en * e_dev
            c[x[:, 1 : 1 + S]] += w_en * (e_up + e_dn)
            c[x[:, 1 + S :]] += w_en * (e_up + e_dn)
            for s in np.flatnonzero(buffers > 0):
                c[q[:, s]] -= w_en * e_dn[:, s]
        penalty = 2.0 * tasks.deadline if sc.drop_penalty is None else np.full(n, sc.drop_penalty)
        if w_lat > 0.0:
            for s in np.flatnonzero(buffers > 0):
                c[q[:, s]] += w_lat * wt * penalty
            self._times(
                sc,
                tasks,
                var,
                row,
                x,
                q,
                channels,
                buffers,
                up,
                dn,
                dev,
                run,
                cloud,
                H,
                up_hi,
                dn_hi,
            )
            c = np.concatenate([c, np.zeros(len(lower) - len(c))])
            c[self.done] += w_lat * wt
            constant -= float((w_lat * wt * a).sum())
        self.c = c / reference
        self.constant = constant / reference
        size = len(lower)
        matrix = sparse.csr_matrix((vals, (rows_i, cols_i)), shape=(len(row_lo), size))
        self.integrality = np.array(integer)
        self.bounds = Bounds(np.array(lower), np.array(upper))
        self.constraints = LinearConstraint(matrix, np.array(row_lo), np.array(row_hi))

    def _times(
        self, sc, tasks, var, row, x, q, channels, buffers, up, dn, dev, run, cloud, H, up_hi, dn_hi
    ):
        """The free-at chains of the contended resources (module docstring).

        Each conditional row ``lhs >= rhs`` holds when its binaries say so, through a big-M
        term whose M is the least that keeps it void otherwise: upper bounds on every
        free-at time follow in dispatch order from the slowest durations (every policy's
        times lie below them) and are capped at ``H`` (the optimum's lie below it)."""
        n, S = tasks.n, sc.servers
        a = tasks.a
        done = var(n)
        self.done = done
        D = var(n)  # the device CPU of the task's user, free after the task
        us = np.array([var(1, lo=float(a[i]))[0] for i in range(n)])  # upload start
        ue = var(n)  # upload end
        R = var(n)  # the user's radio, free after the task
        rs = var(n)  # edge run start
        re = var(n)  # edge run end
        E = var(n * S).reshape(n, S)  # each edge CPU, free after the task
        chan: dict[tuple[int, int], np.ndarray] = {}
        pick: dict[tuple[int, int], np.ndarray] = {}
        for s in np.flatnonzero(channels > 0):
            for k in range(int(channels[s])):
                chan[s, k] = var(n)
                if channels[s] > 1:
                    pick[s, k] = var(n, binary=True)
        lb = np.concatenate([dev[:, None], up + run + dn, up + cloud + dn], axis=1)
        # Upper bounds of the free-at times before the current task, seconds.
        hi_D = np.zeros(sc.users)
        hi_R = np.zeros(sc.users)
        hi_C = np.zeros(S)
        hi_E = np.zeros(S)
        prev_user: dict[int, int] = {}

        def when(entries, rhs, use, big):
            """``entries >= rhs`` when the binaries ``use`` (pairs of column, 0/1 sign) sum
            to 1; void when they sum to 0 (``big`` >= the largest violation then)."""
            big = max(float(big), 0.0) * (1 + 1e-9) + 1e-9
            row(entries + [(col, -big * v) for col, v in use], float(rhs) - big)

        for i in range(n):
            u = int(tasks.user[i])
            j = prev_user.get(u)
            prev_user[u] = i
            ai = float(a[i])
            xi = x[i]
            edge_x = xi[1 : 1 + S]
            cloud_x = xi[1 + S :]
            # Upper bounds of this task's times, every place.
            hi_us = np.minimum(H, np.maximum(max(ai, hi_R[u]), np.where(channels > 0, hi_C, 0)))
            hi_ue = np.minimum(H, hi_us + up_hi[i])  # (S,)
            hi_re = np.minimum(H, np.maximum(hi_ue, hi_E) + run[i])  # (S,)
            hi_dev = min(H, max(ai, hi_D[u]) + dev[i])
            top_ue, top_re = float(hi_ue.max()), float(max(hi_re.max(), hi_ue.max()))
            # done >= a + the least latency of the place (a cut; drops: no latency).
            entries = [(done[i], 1.0)] + [(xi[p], -lb[i, p]) for p in range(self.P)]
            for s in np.flatnonzero(buffers > 0):
                entries.append((q[i, s], lb[i, 1 + s]))
            row(entries, ai)
            # The device CPU.
            d0 = float(dev[i])
            if j is None:
                row([(D[i], 1.0), (xi[0], -(ai + d0))], 0.0)
            else:
                row([(D[i], 1.0), (D[j], -1.0), (xi[0], -d0)], 0.0)
                row([(D[i], 1.0), (xi[0], -(ai + d0))], 0.0)
            when([(done[i], 1.0), (D[i], -1.0)], 0.0, [(xi[0], 1)], hi_D[u] - ai)
            # The radio: upload from max(a, radio free, the sub-channel's free).
            ups = [(edge_x[s], -up[i, s]) for s in range(S)] + [
                (cloud_x[s], -up[i, s]) for s in range(S)
            ]
            if j is not None:
                row([(us[i], 1.0), (R[j], -1.0)], 0.0)
                row([(R[i], 1.0), (R[j], -1.0)] + ups, 0.0)
            else:
                row([(R[i], 1.0)] + ups, 0.0)
            row([(ue[i], 1.0), (us[i], -1.0)] + ups, 0.0)
            when([(R[i], 1.0), (ue[i], -1.0)], 0.0, [(p, 1) for p in xi[1:]], ai)
            # Sub-channels of servers with finitely many.
            for s in np.flatnonzero(channels > 0):
                C = int(channels[s])
                via = [(edge_x[s], 1), (cloud_x[s], 1)]  # task i uploads to s
                if C > 1:
                    row(
                        [(pick[s, k][i], 1.0) for k in range(C)] + [(e, -v) for e, v in via],
                        0.0,
                        0.0,
                    )
                    for k in range(min(i + 1, C), C):  # symmetry: task i uses one of i + 1
                        row([(pick[s, k][i], 1.0)], -math.inf, 0.0)
                for k in range(C):
                    use = [(pick[s, k][i], 1)] if C > 1 else via
                    use_up = [(col, -up[i, s] * v) for col, v in use]
                    ch = chan[s, k]
                    if i > 0:
                        when([(us[i], 1.0), (ch[i - 1], -1.0)], 0.0, use, hi_C[s] - ai)
                        row([(ch[i], 1.0), (ch[i - 1], -1.0)] + use_up, 0.0)
                    else:
                        row([(ch[i], 1.0)] + use_up, 0.0)
                    when([(ch[i], 1.0), (ue[i], -1.0)], 0.0, use, top_ue)
            # The edge CPUs: run from max(upload end, edge free); kept = on edge s, not dropped.
            row([(rs[i], 1.0), (ue[i], -1.0)], 0.0)
            runs = []
            for s in range(S):
                kept = [(edge_x[s], 1)] + ([(q[i, s], -1)] if buffers[s] > 0 else [])
                runs += [(col, -run[i, s] * v) for col, v in kept]
                kept_run = [(col, -run[i, s] * v) for col, v in kept]
                if i > 0:
                    when([(rs[i], 1.0), (E[i - 1, s], -1.0)], 0.0, kept, hi_E[s] - ai)
                    row([(E[i, s], 1.0), (E[i - 1, s], -1.0)] + kept_run, 0.0)
                else:
                    row([(E[i, s], 1.0)] + kept_run, 0.0)
                when([(E[i, s], 1.0), (re[i], -1.0)], 0.0, kept, top_re)
                # Back on the device: the downlink from the run's end.
                when([(done[i], 1.0), (re[i], -1.0)], dn[i, s], kept, top_re + dn[i, s] - ai)
                # The cloud through s: backhaul up, run, backhaul down, downlink.
                when(
                    [(done[i], 1.0), (ue[i], -1.0)],
                    cloud[i, s] + dn[i, s],
                    [(cloud_x[s], 1)],
                    top_ue + cloud[i, s] + dn[i, s] - ai,
                )
            row([(re[i], 1.0), (rs[i], -1.0)] + runs, 0.0)
            # The free-at times after this task, every place.
            hi_D[u] = max(hi_D[u], hi_dev)
            hi_R[u] = max(hi_R[u], top_ue)
            hi_C = np.maximum(hi_C, hi_ue)
            hi_E = np.maximum(hi_E, hi_re)
        self._windows(sc, tasks, row, x, q, buffers, done, D, ue, R, up, dn, dev, run, lb)

    def _windows(self, sc, tasks, row, x, q, buffers, done, D, ue, R, up, dn, dev, run, lb):
        """Cumulative (window) cuts of the single-server chains, valid inequalities.

        A resource serving in dispatch order is busy, from the earliest time a task j (or a
        later one) can be ready there, at least through the work booked by tasks j..i; so
        task i's completion is at least that release plus the work of j..i (exact sums of
        the binaries) plus i's least time after it, when i uses the resource (one big-M
        term, the least that keeps the row void otherwise: off the resource, i completes no
        sooner than its least latency elsewhere, or at once if it can be dropped). A user's
        device CPU and radio also bound their free-at chains ``D`` and ``R`` and the upload
        end ``ue`` that way, with no big-M term (their releases are arrivals, never above a
        later task's readiness). Per resource, j runs over the last :data:`WINDOW` (edge
        CPUs: :data:`EDGE_WINDOW`) tasks, and a j whose chain cannot stay busy up to task i
        (the row is then dominated) is skipped.
        Every duration is a lower bound, every release a lower bound on a readiness: the
        rows hold on every policy's timeline, so the program's optimum is unchanged."""
        n, S, P = tasks.n, sc.servers, self.P
        a = tasks.a
        buffered = np.flatnonzero(buffers > 0)
        # The least completion time of task i off a place (drops complete at once).
        low_not = np.empty((n, P))
        for p in range(P):
            others = np.delete(lb, p, axis=1)
            low_not[:, p] = a + (others.min(axis=1) if others.shape[1] else np.inf)
        if len(buffered):
            low_not = np.minimum(low_not, a[:, None])

        def big(value: float) -> float:
            return max(float(value), 0.0) * (1 + 1e-9) + 1e-9

        # Per user: the device CPU and the radio.
        ups = up  # (n, S): edge s and the cloud through s upload the same bytes to s
        up_any = np.concatenate([ups, ups], axis=1)  # (n, 2S), places 1..2S
        post = np.concatenate([run + dn, lb[:, 1 + S :] - ups], axis=1)  # after the upload
        max_up = up_any.max(axis=1) if S else np.zeros(n)
        for u in range(sc.users):
            mine = np.flatnonzero(tasks.user == u)
            for b, i in enumerate(mine):
                chain = mine[max(0, b - WINDOW + 1) : b + 1]  # j..i, the user's tasks
                # The device CPU.
                work = np.cumsum(dev[chain][::-1])[::-1]  # work of j..i, each j
                for c, j in enumerate(chain):
                    before = float(a[j] + work[c] - dev[i])  # the release plus j..i-1
                    if c < len(chain) - 1 and before <= a[i]:
                        continue  # the device is free by a_i: the row adds nothing
                    terms = [(x[k, 0], dev[k]) for k in chain[c:]]
                    row([(D[i], 1.0)] + [(col, -v) for col, v in terms], float(a[j]))
                    m = big(before - low_not[i, 0])
                    row(
                        [(done[i], 1.0)]
                        + [(col, -v) for col, v in terms[:-1]]
                        + [(x[i, 0], -(dev[i] + m))],
                        float(a[j]) - m,
                    )
                if S == 0:
                    continue
                # The radio: uploads of j..i (any place off the device).
                wmax = np.cumsum(max_up[chain][::-1])[::-1]
                for c, j in enumerate(chain):
                    before = float(a[j] + wmax[c] - max_up[i])
                    if c < len(chain) - 1 and before <= a[i]:
                        continue
                    terms = [(x[k, 1 + p], -up_any[k, p]) for k in chain[c:] for p in range(2 * S)]
                    row([(ue[i], 1.0)] + terms, float(a[j]))
                    row([(R[i], 1.0)] + terms, float(a[j]))
                    # done_i >= a_j + uploads of j..i + task i's least time after its upload,
                    # unless task i stays on the device or is dropped.
                    m = big(before - (a[i] + dev[i]))
                    if len(buffered):
                        m = big(max(m, before + float(ups[i, buffered].max()) - a[i]))
                    entries = [(done[i], 1.0)] + [
                        (col, v) for col, v in terms if col not in set(x[i, 1:])
                    ]
                    entries += [(x[i, 1 + p], -(up_any[i, p] + post[i, p])) for p in range(2 * S)]
                    entries += [(x[i, 0], m)]
                    entries += [(q[i, s], m + post[i, s]) for s in buffered]
                    row(entries, float(a[j]))
        # Each edge CPU: release_j = the least (arrival + upload to s) of tasks j and later.
        for s in range(S):
            ready = a + up[:, s]
            rel = np.minimum.accumulate(ready[::-1])[::-1]
            kept = [(x[k, 1 + s], 1.0) for k in range(n)]
            for i in range(n):
                lo = max(0, i - EDGE_WINDOW + 1)
                work = np.cumsum(run[lo : i + 1, s][::-1])[::-1]
                for c, j in enumerate(range(lo, i + 1)):
                    if j < i:
                        # Dominated when the chain from j cannot stay busy until j + 1's release.
                        if rel[j] + run[j, s] <= rel[j + 1]:
                            continue
                    before = float(rel[j] + work[c] - run[i, s])
                    if j < i and before <= ready[i]:
                        continue
                    terms = []
                    for k in range(j, i + 1):
                        terms.append((kept[k][0], -run[k, s]))
                        if buffers[s] > 0:
                            terms.append((q[k, s], run[k, s]))
                    m = big(before - low_not[i, 1 + s])
                    entries = [(done[i], 1.0)] + terms[: -2 if buffers[s] > 0 else -1]
                    entries += [(x[i, 1 + s], -(run[i, s] + dn[i, s] + m))]
                    if buffers[s] > 0:
                        entries += [(q[i, s], run[i, s] + dn[i, s] + m)]
                    row(entries, float(rel[j]) - m)

    def places(self, solution: np.ndarray) -> np.ndarray:
        """(T, U) places of a solution of the program."""
        choice = np.rint(solution[self.x]).argmax(axis=1)
        return self._tasks.grid(choice[None])[0]
