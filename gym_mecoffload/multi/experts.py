"""Causal experts and heuristics of the multi-user family (SPEC-MULTI section 6).

A policy is a callable ``policy(core) -> places``: given a :class:`MultiCore` at the start of
a slot (any state, for every system in it), the place of every user's new task, (B, U)
integers (0 for users without a task, whose action is ignored). Every policy here is
causal: it reads the queues, the slot's tasks and rates and the platform, never a future
slot. The views turn a policy into actions: the dispatcher's action is ``policy(env.core)[0]``
(:func:`act`), PettingZoo's and SB3's the rows of it.

Sequential policies decide the slot's tasks in placement order, each given the places
chosen before it (:meth:`MultiCore.evaluate` on a copy of the state), so they see exactly
the queues their task will meet.

* ``local``, ``nearest`` (the edge server of the best mean link), ``random``,
  ``round_robin`` (servers in turn over the episode's tasks), ``jsq`` (fewest booked,
  unfinished tasks), ``least_backlog`` (least edge CPU backlog), ``mect`` (least own
  latency over every place), ``power_of_two`` (the less booked of two random servers);
* ``myopic``: each task in turn on the place of least own cost under the objective given
  the queues (for ``aoi``: least weighted latency). It minimises each task's cost given the
  earlier ones, not the slot's cost jointly (which is exponential in the slot's tasks);
* ``dpp``: Lyapunov drift-plus-penalty: least ``V * cost + sum_r Q_r * work_r`` where
  ``Q_r`` is the backlog (s) of each resource the place uses and ``work_r`` the seconds it
  adds there;
* ``rollout``: for each task in turn, every place is tried in M sampled futures (drawn from
  the scenario's laws, never the episode's own future; the same futures for every
  candidate) continued by a base policy for ``lookahead`` slots; the least mean cost wins.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gym_mecoffload.core.checks import check_count, real_number
from gym_mecoffload.multi.core import TIMES, MultiCore, OpenSlot
from gym_mecoffload.multi.model import draw_episodes

Policy = Callable[[MultiCore], np.ndarray]
TIME = {name: i for i, name in enumerate(TIMES)}


def act(policy: Policy, core: MultiCore) -> np.ndarray:
    """The dispatcher's action of one system (U,) from a policy: ``act(policy,
    env.unwrapped.core)`` for ``MecOffloadMulti-v0``; ``policy(vector_env.core)`` is the
    vector env's actions (N, U)."""
    return policy(core)[0]


def agent_actions(policy: Policy, core: MultiCore, agents: list[str]) -> dict[str, int]:
    """The PettingZoo view's actions from a policy: ``agent_actions(policy, env.core,
    env.agents)``; agent ``user_u`` places user u's task."""
    places = policy(core)[0]
    return {agent: int(places[int(agent.removeprefix("user_"))]) for agent in agents}


class Sequential:
    """A policy that decides the slot's tasks in placement order on a copy of the state:
    :meth:`choose` gives position i's places (B,) given the positions before it."""

    def choose(self, plan: MultiCore, slot: OpenSlot, i: int) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, core: MultiCore) -> np.ndarray:
        plan = core.copy()
        slot = plan.open_slot()
        bi = np.arange(core.size)
        out = np.zeros((core.size, core.scenario.users), dtype=np.int64)
        for i in range(int(slot.count.max(initial=0))):
            place = self.choose(plan, slot, i)
            booking = plan.evaluate(slot, i, place)
            plan.commit(slot, booking)
            active = booking.active
            out[bi[active], slot.seq[active, i]] = place[active]
        return out

    def __repr__(self) -> str:
        return type(self).__name__


def _every_place(plan: MultiCore, slot: OpenSlot, i: int, score: Callable) -> np.ndarray:
    """The place of least ``score(plan, slot, booking)`` (B,) for position i."""
    scores = np.stack(
        [
            score(plan, slot, plan.evaluate(slot, i, np.full(plan.size, p)))
            for p in range(plan.scenario.n_places)
        ],
        axis=-1,
    )
    return scores.argmin(axis=-1)


def _booked(plan: MultiCore, slot: OpenSlot) -> np.ndarray:
    """(B, S) tasks booked on each edge and not finished at the slot's start."""
    return (plan.booked_run > slot.a[:, None, None]).sum(axis=-1)


class Local(Sequential):
    """Every task on its own device."""

    def choose(self, plan, slot, i):
        return np.zeros(plan.size, dtype=np.int64)


class Nearest(Sequential):
    """Every task on the edge server of its user's best mean link."""

    def choose(self, plan, slot, i):
        bi = np.arange(plan.size)
        return 1 + plan.episodes.mean_bandwidth[bi, slot.seq[:, i]].argmax(axis=-1)


class RandomPolicy(Sequential):
    """Every task on a uniformly random place, from its own generator."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def choose(self, plan, slot, i):
        return self.rng.integers(0, plan.scenario.n_places, size=plan.size)


class Myopic(Sequential):
    """Each task in turn on its place of least own cost given the queues (module doc)."""

    def choose(self, plan, slot, i):
        return _every_place(plan, slot, i, lambda p, s, b: p.booking_cost(s, b))


class Mect(Sequential):
    """Each task in turn on its place of least own latency (a drop counts as never done)."""

    def choose(self, plan, slot, i):
        return _every_place(
            plan, slot, i, lambda p, s, b: np.where(b.dropped, np.inf, np.nan_to_num(b.latency))
        )


class Jsq(Sequential):
    """Join the shortest queue: the edge with the fewest booked, unfinished tasks."""

    def choose(self, plan, slot, i):
        return 1 + _booked(plan, slot).argmin(axis=-1)


class LeastBacklog(Sequential):
    """The edge whose CPU is free soonest."""

    def choose(self, plan, slot, i):
        return 1 + np.maximum(plan.edge_free - slot.a[:, None], 0.0).argmin(axis=-1)


class RoundRobin(Sequential):
    """Servers in turn over the episode's tasks, in dispatch order."""

    def choose(self, plan, slot, i):
        before = (plan.record_place >= 0).reshape(plan.size, -1).sum(axis=-1)
        return 1 + (before + i) % plan.scenario.servers


class PowerOfTwo(Sequential):
    """The less booked of two servers drawn at random (ties: the first drawn)."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def choose(self, plan, slot, i):
        pair = self.rng.integers(0, plan.scenario.servers, size=(plan.size, 2))
        booked = np.take_along_axis(_booked(plan, slot), pair, axis=-1)
        return 1 + np.where(booked[:, 1] < booked[:, 0], pair[:, 1], pair[:, 0])


class DriftPlusPenalty(Sequential):
    """Lyapunov drift-plus-penalty with weight ``v`` (module doc)."""

    def __init__(self, v: float = 1.0) -> None:
        self.v = real_number("v", v)
        if not 0.0 <= self.v < float("inf"):
            raise ValueError(f"v must be finite and >= 0; got {v!r}")

    def choose(self, plan, slot, i):
        return _every_place(plan, slot, i, self._score)

    def _score(self, plan: MultiCore, slot: OpenSlot, booking) -> np.ndarray:
        bi = np.arange(plan.size)
        a, u, s = slot.a, booking.user, booking.server
        tm = {name: booking.times[:, k] for name, k in TIME.items()}
        cpu_q = np.maximum(plan.cpu_free[bi, u] - a, 0.0)
        radio_q = np.maximum(plan.radio_free[bi, u] - a, 0.0)
        edge_q = np.maximum(plan.edge_free[bi, s] - a, 0.0)
        drift = np.where(
            booking.place == 0,
            cpu_q * np.nan_to_num(tm["device_end"] - tm["device_start"]),
            radio_q * np.nan_to_num(tm["upload_end"] - tm["upload_start"])
            + edge_q * np.nan_to_num(tm["run_end"] - tm["run_start"]),
        )
        return self.v * plan.booking_cost(slot, booking) + drift


class Rollout(Sequential):
    """Per task, every place tried in ``samples`` sampled futures continued by ``base`` (a
    :class:`Sequential` policy, default :class:`Myopic`) for ``lookahead`` slots after this
    one; the least mean cost wins (module doc). Seeded by ``seed``."""

    def __init__(
        self,
        base: Sequential | None = None,
        samples: int = 8,
        lookahead: int = 5,
        seed: int | None = 0,
    ) -> None:
        self.base = Myopic() if base is None else base
        if not isinstance(self.base, Sequential):
            raise TypeError(f"base must be a Sequential policy; got {base!r}")
        self.samples = check_count("samples", samples, 1, 10_000)
        self.lookahead = check_count("lookahead", lookahead, 0, 1_000_000, " (slots)")
        self.rng = np.random.default_rng(seed)
        self._futures: MultiCore | None = None

    def __call__(self, core: MultiCore) -> np.ndarray:
        self._futures = self._sample(core)
        return super().__call__(core)

    def _sample(self, core: MultiCore) -> MultiCore:
        """Per system, M futures (rows b * M .. b * M + M - 1): the slots after the current
        one redrawn from the laws; the platform, the episode so far and this slot kept."""
        sc, M = core.scenario, self.samples
        futures = core.select(np.repeat(np.arange(core.size), M))
        drawn = draw_episodes(sc, futures.size, self.rng)
        ep = futures.episodes
        later = np.arange(sc.horizon)[None, :] > futures.t[:, None]  # (n, T)
        for name in ("arrive", "cycles", "input_data", "output_data", "deadline", "k", "order"):
            getattr(ep, name)[later] = getattr(drawn, name)[later]
        ep.attempts[later] = drawn.attempts[later]
        tail = np.arange(sc.tail_slots)[None, :] > futures.t[:, None]
        relative = drawn.bandwidth / drawn.mean_bandwidth[:, None]
        ep.bandwidth[tail] = (ep.mean_bandwidth[:, None] * relative)[tail]
        futures.normaliser[:] = futures.costs_alone_best()
        return futures

    def choose(self, plan: MultiCore, slot: OpenSlot, i: int) -> np.ndarray:
        P, M, B = plan.scenario.n_places, self.samples, plan.size
        # Every candidate in every future of every system: rows (b, p, m).
        rows = np.repeat(np.arange(B), P * M)
        world = self._futures.select(
            np.repeat(np.arange(B * M).reshape(B, 1, M), P, axis=1).ravel()
        )
        # The futures' state is the slot's start: replay this slot's committed positions.
        sub = OpenSlot(
            slot.t[rows],
            slot.a[rows],
            {k: v[rows] for k, v in slot.cur.items()},
            slot.seq[rows],
            slot.count[rows],
        )
        n = world.size
        committed = slot.committed()["place"][rows]
        for j in range(i):
            world.commit(sub, world.evaluate(sub, j, committed[np.arange(n), sub.seq[:, j]]))
        candidate = np.tile(np.repeat(np.arange(P), M), B)
        world.commit(sub, world.evaluate(sub, i, candidate))
        for j in range(i + 1, int(sub.count.max(initial=0))):
            world.commit(sub, world.evaluate(sub, j, self.base.choose(world, sub, j)))
        cost = world.close_slot(sub).cost.sum(axis=-1)
        for _ in range(self.lookahead):
            if world.done.any():
                break
            cost = cost + world.step(self.base(world)).cost.sum(axis=-1)
        return cost.reshape(B, P, M).mean(axis=-1).argmin(axis=-1)

    def __repr__(self) -> str:
        return f"Rollout(base={self.base!r}, samples={self.samples}, lookahead={self.lookahead})"


HEURISTICS: dict[str, Callable[[], Sequential]] = {
    "local": Local,
    "nearest": Nearest,
    "random": lambda: RandomPolicy(0),
    "round_robin": RoundRobin,
    "jsq": Jsq,
    "least_backlog": LeastBacklog,
    "mect": Mect,
    "power_of_two": lambda: PowerOfTwo(0),
}
EXPERTS: dict[str, Callable[[], Sequential]] = {
    "myopic": Myopic,
    "dpp": DriftPlusPenalty,
    "rollout": Rollout,
}


def make_policy(name: str) -> Sequential:
    """A heuristic or causal expert by name (defaults; seeded where random)."""
    table = {**HEURISTICS, **EXPERTS}
    if name not in table:
        raise ValueError(f"unknown policy {name!r}; known: {sorted(table)}")
    return table[name]()
