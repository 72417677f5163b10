"""The ``exact`` expert (gym_mecoffload/multi/exact.py) against independent computations.

The brute force here enumerates every realisation of each slot (arrivals, types, classes,
orders of users) with its probability and every joint placement, and takes the costs from
the reference simulator (tests/multi/reference.py) alone. Subtrees are merged when the
reference's resource times, relative to the slot's start and clipped at 0, are equal (the
future cost of the latency objective depends on nothing else), so it shares neither code
nor state reductions with the expert or the core.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from reference import Episode, ReferenceSimulator, System, Task

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.exact import ExactExpert
from gym_mecoffload.multi.model import draw_episodes, make_scenario

LATENCY = Objective("latency")


class BruteForce:
    """The optimal expected cost over all decision trees, from the reference simulator."""

    def __init__(self, sc):
        self.sc = sc
        U, S = sc.users, sc.servers
        self.system = System(
            device_hz=[sc.device_hz[0]] * U,
            edge_hz=[sc.edge_hz[0]] * S,
            cloud_bandwidth=[sc.cloud_bandwidth[0]] * S,
            uplink_channels=[None if c == 0 else int(c) for c in sc.uplink_channels],
            buffer=[None if c == 0 else int(c) for c in sc.buffer],
            cloud_hz=sc.cloud_hz,
            slot_seconds=sc.slot_seconds,
            horizon=sc.horizon,
            class_weights=list(sc.class_weights),
        )
        self.rates = [[[sc.edge_bandwidth[0]] * S for _ in range(U)]] * (4 * sc.horizon + 50)
        # Every realisation of a slot: (probability, tasks per user, order).
        per_user = []
        for u in range(U):
            p = float(sc.arrival_probability[u])
            opts = [(1 - p, None)]
            for y, row in enumerate(sc.task_types):
                for k, pk in enumerate(sc.class_probabilities):
                    task = Task(*map(float, row), k=k)
                    opts.append((p * sc.type_probabilities[y] * pk, task))
            per_user.append(opts)
        perms = list(itertools.permutations(range(U)))
        self.outcomes = []
        for combo in itertools.product(*per_user):
            prob = math.prod(q for q, _ in combo)
            if prob == 0:
                continue
            for perm in perms:
                self.outcomes.append((prob / len(perms), [t for _, t in combo], list(perm)))
        self.memo = {}

    def sim_at(self, t, res_state, row=None, order=None):
        """A reference simulator at slot t whose resources are ``res_state``, slot t's tasks
        ``row`` and order ``order``."""
        T, U = self.sc.horizon, self.sc.users
        tasks = [[None] * U for _ in range(T)]
        orders = [list(range(U)) for _ in range(T)]
        if row is not None:
            tasks[t] = list(row)
            orders[t] = list(order)
        episode = Episode(tasks=tasks, edge_bandwidth=self.rates, order=orders)
        sim = ReferenceSimulator(self.system, episode)
        sim.t = t
        cpu, radio, chans, edge, on_edge = res_state
        sim.res.cpu_free = list(cpu)
        sim.res.radio_free = list(radio)
        sim.res.channel_free = [None if c is None else list(c) for c in chans]
        sim.res.edge_free = list(edge)
        sim.res.on_edge = [list(x) for x in on_edge]
        return sim

    def key(self, t, res):
        now = t * self.sc.slot_seconds

        def rel(x):
            return round(max(0.0, x - now), 9)

        return (
            t,
            tuple(map(rel, res.cpu_free)),
            tuple(map(rel, res.radio_free)),
            tuple(None if c is None else tuple(map(rel, c)) for c in res.channel_free),
            tuple(map(rel, res.edge_free)),
            tuple(tuple((rel(a), rel(b)) for a, b in x if b > now) for x in res.on_edge),
        )

    @staticmethod
    def snapshot(res):
        return (
            tuple(res.cpu_free),
            tuple(res.radio_free),
            tuple(None if c is None else tuple(c) for c in res.channel_free),
            tuple(res.edge_free),
            tuple(tuple(x) for x in res.on_edge),
        )

    def q_values(self, t, res_state, tasks, order):
        """{places tuple: slot cost + optimal expected future} for one realised slot."""
        U = self.sc.users
        who = [u for u in range(U) if tasks[u] is not None]
        out = {}
        for choice in itertools.product(range(self.sc.n_places), repeat=len(who)):
            sim = self.sim_at(t, res_state, tasks, order)
            places = [0] * U
            for u, p in zip(who, choice, strict=True):
                places[u] = p
            record = sim.step(places)
            out[tuple(places)] = record.cost["latency"] + self.value(t + 1, sim.res)
        return out

    def value(self, t, res):
        """Expected optimal cost-to-go from slot t's start with resources ``res``."""
        if t >= self.sc.horizon:
            return 0.0
        key = self.key(t, res)
        if key not in self.memo:
            state = self.snapshot(res)
            self.memo[key] = sum(
                prob * min(self.q_values(t, state, tasks, order).values())
                for prob, tasks, order in self.outcomes
            )
        return self.memo[key]

    def start(self):
        return self.value(0, self.sim_at(0, ((0.0,) * self.sc.users,) * 2 + self._empty()).res)

    def _empty(self):
        sc = self.sc
        chans = tuple(None if c == 0 else (0.0,) * int(c) for c in sc.uplink_channels)
        return (chans, (0.0,) * sc.servers, ((),) * sc.servers)


MICRO = [
    # U = 2, S = 1, T = 3 (SPEC-MULTI section 6) takes about 4 minutes: marked slow below.
    {"users": 2, "servers": 1, "horizon": 3},
    {"users": 2, "servers": 1, "horizon": 2},
    {"users": 2, "servers": 2, "horizon": 2},
    {
        "users": 2,
        "servers": 1,
        "horizon": 2,
        "buffer": 1,
        "class_weights": (1.0, 3.0),
        "class_probabilities": (0.5, 0.5),
    },
]


@pytest.fixture(
    scope="module",
    params=[pytest.param(0, marks=pytest.mark.slow)] + list(range(1, len(MICRO))),
)
def micro(request):
    sc = make_scenario("tiny", **MICRO[request.param])
    return sc, ExactExpert(sc), BruteForce(sc)


def test_expected_cost_equals_brute_force(micro):
    sc, expert, brute = micro
    assert expert.expected_cost() == pytest.approx(brute.start(), rel=1e-9)
    assert expert.states_solved > 0


def run_to_random_states(sc, n, seed):
    """Cores of n systems each, stepped by random places to every slot t (reachable
    states): [(t, core, episodes, places per slot)]."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(sc.horizon):
        core = MultiCore(sc, "latency", LATENCY, n)
        episodes = draw_episodes(sc, n, rng)
        core.reset(episodes)
        history = []
        for _ in range(t):
            places = rng.integers(0, sc.n_places, size=(n, sc.users))
            history.append(places)
            core.step(places)
        out.append((t, core, episodes, history))
    return out


def test_decide_and_value_agree_with_brute_force(micro):
    sc, expert, brute = micro
    for t, core, episodes, history in run_to_random_states(sc, 12, seed=7):
        check_decisions(sc, expert, brute, t, core, episodes, history)


def check_decisions(sc, expert, brute, t, core, episodes, history):
    chosen = expert.decide(core)
    values = expert.value(core)
    for b in range(core.size):
        assert core.t[b] == t
        # Replay system b in the reference simulator up to slot t.
        tasks = []
        for tt in range(sc.horizon):
            row = []
            for u in range(sc.users):
                if episodes.arrive[b, tt, u]:
                    row.append(
                        Task(
                            float(episodes.cycles[b, tt, u]),
                            float(episodes.input_data[b, tt, u]),
                            float(episodes.output_data[b, tt, u]),
                            float(episodes.deadline[b, tt, u]),
                            k=int(episodes.k[b, tt, u]),
                        )
                    )
                else:
                    row.append(None)
            tasks.append(row)
        order = episodes.order[b].tolist()
        sim = ReferenceSimulator(brute.system, Episode(tasks, brute.rates, order))
        for tt in range(t):
            sim.step(list(history[tt][b]))
        q = brute.q_values(t, brute.snapshot(sim.res), tasks[t], order[t])
        best = min(q.values())
        got = tuple(int(chosen[b, u]) if tasks[t][u] is not None else 0 for u in range(sc.users))
        assert q[got] == pytest.approx(best, rel=1e-9, abs=1e-12), (b, t, got)
        assert values[b] == pytest.approx(best, rel=1e-9, abs=1e-12)
        for u in range(sc.users):
            if tasks[t][u] is None:
                assert chosen[b, u] == 0


# ---------------------------------------------------------------------------- Monte Carlo

MC_SCENARIO = {"horizon": 4, "buffer": None}


def episode_costs(sc, episodes, policy):
    """(B,) each episode's total cost under ``policy(core) -> (B, U) places``."""
    core = MultiCore(sc, "latency", LATENCY, episodes.size)
    core.reset(episodes)
    total = np.zeros(episodes.size)
    while not core.done.all():
        total += core.step(policy(core)).cost.sum(axis=1)
    return total


def greedy(core):
    """Per task in placement order, the place of least own latency given the queues (and
    the places of the slot's earlier tasks)."""
    sc = core.scenario
    B = core.size
    seq, n = core.placement_order()
    places = np.zeros((B, sc.users), dtype=np.int64)
    bi = np.arange(B)
    for i in range(sc.users):
        u = seq[:, i]
        best = np.full(B, np.inf)
        choice = np.zeros(B, dtype=np.int64)
        for p in range(sc.n_places):
            trial = places.copy()
            trial[bi, u] = p
            lat = core.copy().step(trial).latency[bi, u]
            better = lat < best
            best = np.where(better, lat, best)
            choice = np.where(better, p, choice)
        places[bi, u] = np.where(i < n, choice, 0)
    return places


def test_monte_carlo_beats_other_policies_and_matches_expectation():
    sc = make_scenario("tiny", **MC_SCENARIO)
    expert = ExactExpert(sc)
    B = 2000
    episodes = draw_episodes(sc, B, np.random.default_rng(2024))
    exact = episode_costs(sc, episodes, expert.decide)
    se = exact.std(ddof=1) / math.sqrt(B)
    assert abs(exact.mean() - expert.expected_cost()) < 4 * se
    rng = np.random.default_rng(5)
    others = {
        "local": lambda core: np.zeros((core.size, sc.users), dtype=np.int64),
        "edge_0": lambda core: np.ones((core.size, sc.users), dtype=np.int64),
        "random": lambda core: rng.integers(0, sc.n_places, size=(core.size, sc.users)),
        "greedy": greedy,
    }
    for name, policy in others.items():
        diff = episode_costs(sc, episodes, policy) - exact
        assert diff.mean() - 3 * diff.std(ddof=1) / math.sqrt(B) > 0, name
        assert diff.min() > -1e6  # finite


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("changes", "cause"),
    [
        ({"channel": "iid"}, "channel"),
        ({"outage_probability": 0.1}, "outage"),
        ({"device_hz": 0.3}, "whole number of slots"),
        ({"slot_seconds": 0.7}, "whole number of slots"),
        ({"edge_hz": (1.0, 2.0)}, "fixed platform"),
        ({"arrivals": "mmpp"}, "mmpp"),
    ],
)
def test_refusals(changes, cause):
    sc = make_scenario("tiny", users=2, servers=1, horizon=2, **changes)
    with pytest.raises(ValueError, match=cause):
        ExactExpert(sc)


def test_refuses_without_task_types():
    sc = make_scenario("tiny", users=2, servers=1, horizon=2).with_options(
        task_types=None, type_probabilities=None
    )
    with pytest.raises(ValueError, match="task-type"):
        ExactExpert(sc)


def test_refuses_beyond_the_budget():
    sc = make_scenario("tiny", users=2, servers=1, horizon=4)
    with pytest.raises(ValueError, match="state budget.*about"):
        ExactExpert(sc, max_states=50)


def test_refuses_other_objectives():
    sc = make_scenario("tiny", users=2, servers=1, horizon=2)
    expert = ExactExpert(sc)
    core = MultiCore(sc, "energy", Objective("latency"), 2)
    core.reset(draw_episodes(sc, 2, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="latency"):
        expert.decide(core)


# ---------------------------------------------------------------------------- internals


@pytest.mark.parametrize("changes", [{}, {"buffer": 1}, {"uplink_channels": None}])
def test_costs_and_bounds_agree_with_placements(changes):
    """The solver's cost shortcut equals a placement's cost, and its state-dependent lower
    bound of the cost-to-go never exceeds the value, on every state the solver valued."""
    sc = make_scenario("tiny", users=2, servers=2, horizon=3, **changes)
    expert = ExactExpert(sc)
    for after in expert._after[:-1]:
        for leaf in after:
            for u in range(sc.users):
                for y in range(len(sc.task_types)):
                    costs = expert._costs(leaf, u, y)
                    placed = [expert._place(leaf, u, y, 0, p)[0] for p in range(sc.n_places)]
                    assert costs == pytest.approx(placed, rel=1e-12)
    for t, after in enumerate(expert._after[:-2]):
        for leaf, v in after.items():
            assert expert._next_bound(t + 1, expert._shift(leaf)) <= v + 1e-12
