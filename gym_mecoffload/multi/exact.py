"""The ``exact`` expert (SPEC-MULTI section 6): the optimal causal policy for an episode's
law, by backward induction.

The state at the start of slot t is every contended resource's backlog relative to the
slot's start ``t * Δ``, in whole slots (clipped below at 0): each device CPU and each
user's radio, each edge CPU, each limited server's uplink sub-channels (a sorted tuple:
the core takes the earliest free sub-channel, and which of equally free ones it takes
changes no time), and, for a server with a limited buffer, the (upload end, run end) of
the tasks booked on it that can still count. The slot's new tasks and their placement
order are then revealed; the decision is joint over them (every combination of places),
and its cost is the sum of the placed tasks' costs, ``class_weight * latency`` in
seconds (a drop: ``class_weight * drop_penalty``), all known at placement (SPEC-MULTI
section 3). The expectation is over the next slots' arrivals (Bernoulli per user), task
types, classes and the uniformly random order of users. The episode is truncated after T
slots (work still queued then costs nothing more: its cost was counted at placement).

Where it is exact, and what it refuses (a :class:`ValueError` naming the cause):

* the ``latency`` objective (checked when it is used on a core);
* ``channel="static"``, ``outage_probability = 0`` and ``arrivals="bernoulli"``;
* a finite task-type set (``task_types``) and a known platform (every range of
  ``device_hz``, ``edge_hz``, ``edge_bandwidth``, ``cloud_bandwidth`` fixed);
* every contended duration a whole number of slots: each type's run on the device and on
  each edge, and its upload to each server (the legs that do not contend, downlinks,
  backhauls and the cloud's run, may last any time: they only add to a latency);
* at most ``max_states`` states (counted slot by slot as the reachable states are
  enumerated; beyond it the message gives the count so far and an extrapolation).

Units: durations in the state are whole slots; costs and values are in the core's cost
units (seconds weighted by the class weight).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np

from gym_mecoffload.core.checks import check_count
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.model import MultiScenario

INTEGER_TOLERANCE = 1e-9  # relative: a duration this close to a whole number of slots is one

# A state: (cpu (U,), radio (U,), edge (S,), channels (S,), bookings (S,)), all in slots
# relative to the slot's start. channels[s] is None (unlimited) or a sorted tuple of the
# sub-channels' backlogs; bookings[s] is None (unlimited buffer) or a sorted tuple of
# (upload end, run end) pairs with run end > 0.
State = tuple
# A slot's tasks in placement order: ((user, type, class), ...).
Sequence_ = tuple


def _whole_slots(value: float, what: str) -> int:
    """``value`` (in slots) as an int, or a ValueError naming ``what``."""
    n = round(value)
    if not math.isfinite(value) or abs(value - n) > INTEGER_TOLERANCE * max(1.0, abs(value)):
        raise ValueError(
            f"the exact expert needs every contended duration to be a whole number of "
            f"slots; {what} lasts {value!r} slots"
        )
    return int(n)


class ExactExpert:
    """The optimal causal policy for a scenario's law (module doc), solved at construction.

    Attributes:
        scenario: the scenario solved.
        max_states: the state budget.
    """

    def __init__(self, scenario: MultiScenario, max_states: int = 2_000_000):
        self.scenario = scenario
        self.max_states = check_count("max_states", max_states, 1)
        self._check_scope(scenario)
        sc = scenario
        U, S, dt = sc.users, sc.servers, sc.slot_seconds
        self.U, self.S, self.T, self.dt = U, S, sc.horizon, dt
        self.P = sc.n_places
        types = np.asarray(sc.task_types, dtype=float)
        self.types = types
        dev_hz, edge_hz = sc.device_hz[0], sc.edge_hz[0]
        bw, cbw = sc.edge_bandwidth[0], sc.cloud_bandwidth[0]
        self.weights = [float(w) for w in sc.class_weights]
        penalty = sc.drop_penalty
        # Per type: durations in whole slots of the contended legs, tails in seconds.
        self.dev = []
        self.up = []
        self.run = []
        self.edge_tail = []
        self.cloud_tail = []
        self.penalty = []
        for y, (c, din, dout, deadline) in enumerate(types):
            self.dev.append(_whole_slots(c / dev_hz / dt, f"type {y}'s run on a device"))
            self.up.append(_whole_slots(din / bw / dt, f"type {y}'s upload"))
            self.run.append(_whole_slots(c / edge_hz / dt, f"type {y}'s run on an edge"))
            self.edge_tail.append(dout / bw)
            self.cloud_tail.append(din / cbw + c / sc.cloud_hz + dout / cbw + dout / bw)
            self.penalty.append(2.0 * deadline if penalty is None else float(penalty))
        self.channels = [int(c) for c in sc.uplink_channels]  # 0: unlimited
        self.buffer = [int(c) for c in sc.buffer]  # 0: unlimited
        self.sequences = self._sequences()
        self.empty: State = (
            (0,) * U,
            (0,) * U,
            (0,) * S,
            tuple(None if c == 0 else (0,) * c for c in self.channels),
            tuple(None if c == 0 else () for c in self.buffer),
        )
        self._values: list[dict[tuple, float]] = [{} for _ in range(self.T + 1)]
        # Per slot t, the cost-to-go after slot t ended in a (raw, unshifted) state.
        self._after: list[dict[State, float]] = [{} for _ in range(self.T + 1)]
        p = sc.arrival_probability
        self._users_exchangeable = bool(np.all(p == p[0]))
        self._servers_exchangeable = len(set(self.channels)) == 1 and len(set(self.buffer)) == 1
        self._lower = self._lower_bounds()
        # (user, type, probability times mean class weight, cap) of a slot's tasks.
        class_weight = sum(
            float(pk) * w for pk, w in zip(sc.class_probabilities, self.weights, strict=True)
        )
        self._next_terms = [
            (
                u,
                y,
                float(p[u]) * float(py) * class_weight,
                self.penalty[y] if any(self.buffer) else math.inf,
            )
            for u in range(U)
            for y, py in enumerate(sc.type_probabilities)
            if float(p[u]) * float(py) * class_weight > 0
        ]
        self._after_bounds: list[dict[State, float]] = [{} for _ in range(self.T + 1)]
        self._policy: dict[tuple[int, State, Sequence_], tuple[tuple[int, ...], float]] = {}
        self._solve()

    def _lower_bounds(self) -> list[float]:
        """Per slot t (0..T), a lower bound of the expected cost-to-go from t's start in
        any state: every later task at its least cost alone (empty queues), or its drop
        penalty where a buffer could drop it. Backlogs only delay, so it is a bound."""
        sc = self.scenario
        dt = self.dt
        buffers = any(self.buffer)
        per_task = 0.0
        for y, py in enumerate(sc.type_probabilities):
            alone = min(
                self.dev[y] * dt,
                (self.up[y] + self.run[y]) * dt + self.edge_tail[y],
                self.up[y] * dt + self.cloud_tail[y],
            )
            if buffers:
                alone = min(alone, self.penalty[y])
            for k, pk in enumerate(sc.class_probabilities):
                per_task += float(py) * float(pk) * self.weights[k] * alone
        per_slot = per_task * float(sc.arrival_probability.sum())
        return [max(0.0, (self.T - t) * per_slot * (1.0 - 1e-9)) for t in range(self.T + 1)]

    @property
    def states_solved(self) -> int:
        """How many (slot, state) pairs the solver has valued."""
        return sum(len(values) for values in self._values)

    # ------------------------------------------------------------------ scope

    @staticmethod
    def _check_scope(sc: MultiScenario) -> None:
        def refuse(why: str) -> None:
            raise ValueError(f"the exact expert cannot solve this scenario: {why}")

        if sc.channel != "static":
            refuse(f"channel={sc.channel!r}; it needs channel='static' (links known)")
        if sc.outage_probability != 0:
            refuse(
                f"outage_probability={sc.outage_probability!r}; it needs 0 (random "
                "attempt counts make durations random)"
            )
        if sc.arrivals != "bernoulli":
            refuse(f"arrivals={sc.arrivals!r}; it needs 'bernoulli' (mmpp has a hidden state)")
        if sc.task_types is None:
            refuse("no task_types; it needs a finite task-type set")
        for name in ("device_hz", "edge_hz", "edge_bandwidth", "cloud_bandwidth"):
            low, high = getattr(sc, name)
            if low != high:
                refuse(f"{name} is a range {(low, high)}; it needs a fixed platform (low == high)")

    # ------------------------------------------------------------------ the law of a slot

    def _sequences(self) -> list[tuple[float, Sequence_]]:
        """Every slot's placement sequence with its probability (merged when equal)."""
        sc = self.scenario
        U = self.U
        per_user: list[list[tuple[float, tuple[int, int] | None]]] = []
        for u in range(U):
            p = float(sc.arrival_probability[u])
            options: list[tuple[float, tuple[int, int] | None]] = []
            if p < 1:
                options.append((1.0 - p, None))
            if p > 0:
                for y, py in enumerate(sc.type_probabilities):
                    for k, pk in enumerate(sc.class_probabilities):
                        if py * pk > 0:
                            options.append((p * float(py) * float(pk), (y, int(k))))
            per_user.append(options)
        orders = list(itertools.permutations(range(U)))
        law: dict[Sequence_, float] = {}
        for combo in itertools.product(*per_user):
            prob = math.prod(p for p, _ in combo)
            for order in orders:
                position = {u: j for j, u in enumerate(order)}
                users = [u for u in range(U) if combo[u][1] is not None]
                users.sort(key=lambda u: (-self.weights[combo[u][1][1]], position[u]))
                seq = tuple((u, combo[u][1][0], combo[u][1][1]) for u in users)
                law[seq] = law.get(seq, 0.0) + prob / len(orders)
        return sorted(((p, seq) for seq, p in law.items()), key=lambda x: x[1])

    # ------------------------------------------------------------------ one placement

    def _place(self, state: State, u: int, y: int, k: int, p: int) -> tuple[float, State]:
        """Book a task of type y, class k, of user u on place p: (its cost, the state)."""
        cpu, radio, edge, chans, books = state
        w = self.weights[k]
        if p == 0:
            end = cpu[u] + self.dev[y]
            cpu = cpu[:u] + (end,) + cpu[u + 1 :]
            return w * end * self.dt, (cpu, radio, edge, chans, books)
        S = self.S
        s = p - 1 if p <= S else p - 1 - S
        ch = chans[s]
        start = radio[u] if ch is None or ch[0] <= radio[u] else ch[0]
        up_end = start + self.up[y]
        radio = radio[:u] + (up_end,) + radio[u + 1 :]
        if ch is not None:
            new = list(ch[1:])
            new.append(up_end)
            new.sort()
            chans = chans[:s] + (tuple(new),) + chans[s + 1 :]
        if p > S:  # the cloud through s
            return w * (up_end * self.dt + self.cloud_tail[y]), (cpu, radio, edge, chans, books)
        bk = books[s]
        if bk is not None:
            present = sum(1 for ue, re in bk if ue <= up_end < re)
            if present >= self.buffer[s]:
                return w * self.penalty[y], (cpu, radio, edge, chans, books)
        run_end = max(up_end, edge[s]) + self.run[y]
        edge = edge[:s] + (run_end,) + edge[s + 1 :]
        if bk is not None:
            books = books[:s] + (tuple(sorted(bk + ((up_end, run_end),))),) + books[s + 1 :]
        cost = w * (run_end * self.dt + self.edge_tail[y])
        return cost, (cpu, radio, edge, chans, books)

    @staticmethod
    def _shift(state: State) -> State:
        """The state one slot later: every backlog minus one slot, clipped at 0; bookings
        that can no longer count (run end <= 0) forgotten."""
        cpu, radio, edge, chans, books = state
        return (
            tuple(x - 1 if x > 0 else 0 for x in cpu),
            tuple(x - 1 if x > 0 else 0 for x in radio),
            tuple(x - 1 if x > 0 else 0 for x in edge),
            tuple(None if ch is None else tuple(x - 1 if x > 0 else 0 for x in ch) for ch in chans),
            tuple(
                None
                if bk is None
                else tuple((ue - 1 if ue > 0 else 0, re - 1) for ue, re in bk if re > 1)
                for bk in books
            ),
        )

    def _leaves(
        self, state: State, seq: Sequence_
    ) -> Iterator[tuple[float, tuple[int, ...], State]]:
        """(cost of the slot, places in placement order, state after it) for every joint
        placement of ``seq``."""
        if not seq:
            yield 0.0, (), state
            return
        (u, y, k), rest = seq[0], seq[1:]
        for p in range(self.P):
            cost, after = self._place(state, u, y, k, p)
            for c, places, leaf in self._leaves(after, rest):
                yield cost + c, (p,) + places, leaf

    def _costs(self, state: State, u: int, y: int) -> list[float]:
        """The unweighted cost of a task of type y of user u on every place from ``state``
        (as :meth:`_place` computes it, without building the states)."""
        cpu, radio, edge, chans, books = state
        dt = self.dt
        out = [(cpu[u] + self.dev[y]) * dt]
        up, run, r = self.up[y], self.run[y], radio[u]
        ups = []
        for s in range(self.S):
            ch = chans[s]
            start = r if ch is None or ch[0] <= r else ch[0]
            up_end = start + up
            ups.append(up_end)
            bk = books[s]
            if bk is not None:
                present = sum(1 for ue, re in bk if ue <= up_end < re)
                if present >= self.buffer[s]:
                    out.append(self.penalty[y])
                    continue
            e = edge[s]
            out.append(((up_end if up_end > e else e) + run) * dt + self.edge_tail[y])
        tail = self.cloud_tail[y]
        out.extend(up_end * dt + tail for up_end in ups)
        return out

    def _after_value(self, t: int, leaf: State, slack: float = math.inf) -> float:
        """The expected cost-to-go from slot t + 1 after slot t ended in ``leaf``; or
        ``inf`` when a lower bound of it exceeds ``slack`` and it is not yet known (the
        caller then needs only that it exceeds ``slack``)."""
        after = self._after[t]
        v = after.get(leaf)
        if v is None:
            shifted = None
            if slack < math.inf and t + 1 < self.T:
                bounds = self._after_bounds[t]
                lb = bounds.get(leaf)
                if lb is None:
                    shifted = self._shift(leaf)
                    lb = bounds[leaf] = self._next_bound(t + 1, shifted)
                if lb > slack:
                    return math.inf
            if shifted is None:
                shifted = self._shift(leaf)
            v = self._value(t + 1, shifted)
            after[leaf] = v
        return v

    def _next_bound(self, t: int, state: State) -> float:
        """A lower bound of the expected cost-to-go from slot t's start in ``state``: slot
        t's tasks each at their least cost alone from ``state`` (the slot's earlier
        placements only add backlog; where a buffer could drop it, at most its drop
        penalty), every later task at its least cost alone from empty queues."""
        total = 0.0
        costs = self._costs
        for u, y, coef, cap in self._next_terms:
            least = min(costs(state, u, y))
            total += coef * (least if least < cap else cap)
        return total * (1.0 - 1e-9) + self._lower[t + 1]

    def _q(
        self, t: int, state: State, seq: Sequence_, ctx: dict | None = None
    ) -> tuple[float, tuple[int, ...]]:
        """The least (cost of slot t + expected cost-to-go after it) over the joint
        placements of ``seq`` from ``state``, and its places (in placement order).

        Branch and bound: placements are tried by increasing slot cost, and stop once that
        cost plus a lower bound of the future (every later task at its best cost alone)
        exceeds the best found, so only the states this needs are valued. The second task
        of a slot costs at least what it would cost before the first is placed (placing
        only adds backlog), which prunes first places before the second's costs are
        computed. ``ctx`` caches, for one state, the first placements' costs and states."""
        n_tasks = len(seq)
        if n_tasks == 0:
            return self._after_value(t, state), ()
        if n_tasks > 2:
            return self._q_general(t, state, seq)
        if ctx is None:
            ctx = {}
        weights = self.weights
        bound = self._lower[t + 1]
        P = self.P
        u, y, k = seq[0]
        raw = ctx.get((u, y))
        if raw is None:
            raw = ctx[(u, y)] = self._costs(state, u, y)
        w = weights[k]
        if n_tasks == 1:
            order = sorted((w * c, p) for p, c in enumerate(raw))
            cost, p = order[0]
            best = cost + self._after_value(t, self._mid(ctx, state, u, y, p))
            arg = (p,)
            for i in range(1, P):
                cost, p = order[i]
                if cost + bound > best:
                    break
                if t == 0:
                    self._progress_leaf = i / P
                leaf = self._mid(ctx, state, u, y, p)
                total = cost + self._after_value(t, leaf, best - cost)
                if total < best * (1.0 - 1e-12) - 1e-12:
                    best, arg = total, (p,)
            return best, arg
        u2, y2, k2 = seq[1]
        raw2 = ctx.get((u2, y2))
        if raw2 is None:
            raw2 = ctx[(u2, y2)] = self._costs(state, u2, y2)
        w2 = weights[k2]
        least2 = w2 * min(raw2)
        firsts = sorted((w * c, p) for p, c in enumerate(raw))
        place = self._place
        costs = self._costs
        # A first incumbent: the cheapest first place, then its cheapest second place.
        leaves = []
        best = math.inf
        for c1, p1 in firsts:
            if c1 + least2 + bound > best:
                break
            mid = self._mid(ctx, state, u, y, p1)
            second = costs(mid, u2, y2)
            base = p1 * P
            leaves.extend((c1 + w2 * c2, base + p2) for p2, c2 in enumerate(second))
            if best == math.inf:
                c, code = min(leaves)
                best = c + self._after_value(t, place(mid, u2, y2, k2, code % P)[1])
                arg = code
                first_code = code
        leaves.sort()
        limit = best - bound
        n = len(leaves)
        for i in range(n):
            cost, code = leaves[i]
            if cost > limit:
                break
            if code == first_code:
                continue
            if t == 0:
                self._progress_leaf = i / n
            mid = self._mid(ctx, state, u, y, code // P)
            leaf = place(mid, u2, y2, k2, code % P)[1]
            total = cost + self._after_value(t, leaf, best - cost)
            if total < best * (1.0 - 1e-12) - 1e-12:
                best, arg = total, code
                limit = best - bound
        return best, (arg // P, arg % P)

    def _mid(self, ctx: dict, state: State, u: int, y: int, p: int) -> State:
        """``state`` after a task of type y of user u on place p (cached in ``ctx``)."""
        key = (u, y, p)
        mid = ctx.get(key)
        if mid is None:
            mid = ctx[key] = self._place(state, u, y, 0, p)[1]
        return mid

    def _q_general(self, t: int, state: State, seq: Sequence_) -> tuple[float, tuple[int, ...]]:
        """:meth:`_q` for any number of tasks (generic and slower)."""
        leaves = sorted(self._leaves(state, seq), key=lambda leaf: (leaf[0], leaf[1]))
        bound = self._lower[t + 1]
        best, arg = math.inf, ()
        n = len(leaves)
        for i, (cost, places, leaf) in enumerate(leaves):
            if cost + bound > best:
                break
            if t == 0:
                self._progress_leaf = i / n
            total = cost + self._after_value(t, leaf, best - cost)
            if total < best * (1.0 - 1e-12) - 1e-12:
                best, arg = total, places
        return best, arg

    def _canon(self, state: State) -> tuple:
        """A key equal for states that the law's symmetries make equivalent: exchangeable
        users (equal arrival probabilities) and exchangeable servers (equal sub-channel
        and buffer counts; the platform is fixed, so equal speeds and links)."""
        cpu, radio, edge, chans, books = state
        users = tuple(zip(cpu, radio, strict=True))
        if self._users_exchangeable:
            users = tuple(sorted(users))
        servers = tuple(
            zip(
                edge,
                (() if c is None else c for c in chans),
                (() if b is None else b for b in books),
                strict=True,
            )
        )
        if self._servers_exchangeable:
            servers = tuple(sorted(servers))
        return users, servers

    def _value(self, t: int, state: State) -> float:
        """The expected cost-to-go from slot t's start in ``state`` (before its tasks are
        revealed), memoised on the canonical state."""
        if t >= self.T:
            return 0.0
        values = self._values[t]
        key = self._canon(state)
        v = values.get(key)
        if v is None:
            total = 0.0
            ctx: dict = {}
            for j, (p, seq) in enumerate(self.sequences):
                if t == 0:
                    self._progress_seq = j
                total += p * self._q(t, state, seq, ctx)[0]
            v = total
            values[key] = v
            self._count += 1
            if self._count > self.max_states:
                self._refuse_budget()
        return v

    def _refuse_budget(self) -> None:
        done = (self._progress_seq + self._progress_leaf) / len(self.sequences)
        per_slot = [len(values) for values in self._values[: self.T]]
        estimate = self._count / done if done > 0 else math.inf
        raise ValueError(
            f"the exact expert's state budget is exceeded: max_states={self.max_states} "
            f"states were valued (per slot {per_slot}) with about {100 * done:.2g}% of the "
            f"first slot's decisions searched, so about {estimate:.3g} states in all"
        )

    def _solve(self) -> None:
        self._count = 0
        self._progress_seq, self._progress_leaf = 0, 0.0
        self._value(0, self._shift(self.empty))

    # ------------------------------------------------------------------ on a core

    def _check_core(self, core: MultiCore) -> None:
        if core.objective != "latency":
            raise ValueError(
                f"the exact expert optimises the 'latency' objective; the core's is "
                f"{core.objective!r}"
            )
        sc, mine = core.scenario, self.scenario
        if (sc.users, sc.servers, sc.horizon, sc.slot_seconds) != (
            mine.users,
            mine.servers,
            mine.horizon,
            mine.slot_seconds,
        ):
            raise ValueError("the core's scenario is not the one the exact expert solved")

    def _state_of(self, core: MultiCore, b: int) -> State:
        """System b's slot-start state (module doc) from the core's arrays."""
        dt = self.dt
        base = float(core.t[b]) * dt

        def slots(x: float, what: str) -> int:
            return max(0, _whole_slots((x - base) / dt if x > base else 0.0, what))

        cpu = tuple(slots(x, "a device CPU's backlog") for x in core.cpu_free[b])
        radio = tuple(slots(x, "a radio's backlog") for x in core.radio_free[b])
        edge = tuple(slots(x, "an edge CPU's backlog") for x in core.edge_free[b])
        chans = []
        books = []
        for s in range(self.S):
            c = self.channels[s]
            if c == 0:
                chans.append(None)
            else:
                chans.append(
                    tuple(
                        sorted(
                            slots(x, "a sub-channel's backlog") for x in core.channel_free[b, s, :c]
                        )
                    )
                )
            if self.buffer[s] == 0:
                books.append(None)
            else:
                pairs = []
                for ue, re in zip(core.booked_up[b, s], core.booked_run[b, s], strict=True):
                    if math.isfinite(re) and re > base + 0.5 * dt:
                        pairs.append((slots(ue, "an upload's end"), slots(re, "a run's end")))
                books.append(tuple(sorted(pairs)))
        return (cpu, radio, edge, tuple(chans), tuple(books))

    def _sequences_of(self, core: MultiCore) -> list[Sequence_]:
        """Every system's slot tasks in placement order, as (user, type, class)."""
        cur = core.current()
        order, n = core.placement_order()
        rows = np.stack([cur[f] for f in ("cycles", "input_data", "output_data", "deadline")], -1)
        # (B, U, types): which type each task is.
        match = np.isclose(rows[:, :, None, :], self.types[None, None], rtol=1e-12, atol=0.0)
        match = match.all(axis=-1)
        unknown = cur["has_task"] & ~match.any(axis=-1)
        if unknown.any():
            b, u = np.argwhere(unknown)[0]
            raise ValueError(f"system {b}'s task of user {u} is none of the scenario's types")
        kind, k = match.argmax(axis=-1).tolist(), cur["k"].tolist()
        order, n = order.tolist(), n.tolist()
        return [tuple((u, kind[b][u], k[b][u]) for u in order[b][: n[b]]) for b in range(core.size)]

    def _decision(
        self, core: MultiCore, b: int, seq: Sequence_
    ) -> tuple[tuple[int, ...], float, Sequence_]:
        t = int(core.t[b])
        state = self._state_of(core, b)
        key = (t, state, seq)
        hit = self._policy.get(key)
        if hit is None:
            value, arg = self._q(t, state, seq)
            hit = (arg, value)
            self._policy[key] = hit
        return hit[0], hit[1], seq

    def decide(self, core: MultiCore) -> np.ndarray:
        """(B, U) the optimal places of every system's current slot (0 for users without a
        task and for systems whose episode is over)."""
        self._check_core(core)
        out = np.zeros((core.size, self.U), dtype=np.int64)
        seqs = self._sequences_of(core)
        for b in np.flatnonzero(~core.done):
            places, _, seq = self._decision(core, int(b), seqs[b])
            for (u, _, _), p in zip(seq, places, strict=True):
                out[b, u] = p
        return out

    def __call__(self, core: MultiCore) -> np.ndarray:
        """:meth:`decide`: the expert as a policy of :mod:`gym_mecoffload.multi.experts`."""
        return self.decide(core)

    def value(self, core: MultiCore) -> np.ndarray:
        """(B,) the expected cost-to-go (class-weighted seconds) from each system's current
        slot start, its known tasks included, under the optimal policy (0 when over)."""
        self._check_core(core)
        out = np.zeros(core.size)
        seqs = self._sequences_of(core)
        for b in np.flatnonzero(~core.done):
            out[b] = self._decision(core, int(b), seqs[b])[1]
        return out

    def expected_cost(self) -> float:
        """The expected total episode cost from reset (empty queues), class-weighted
        seconds."""
        return self._value(0, self.empty)
