"""The hindsight expert (SPEC-MULTI section 6) against exhaustive search and policies whose
costs come from the independent reference simulator (tests/multi/reference.py), never from
the package's core."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from reference import simulate
from reference_inputs import reference_of

import gym_mecoffload.multi.hindsight as hs
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import NO_TASK
from gym_mecoffload.multi.model import draw_episodes, make_scenario

UNLIMITED = {"uplink_channels": None, "buffer": None}
# Small episodes where the program is exact (static links, unlimited sub-channels and
# buffers) and where it is exact for the exhaustive comparison through the fallback (iid).
SMALL = [
    ("tiny", {"horizon": 3, **UNLIMITED}, True),
    ("tiny", {"horizon": 2, "uplink_channels": 1, "buffer": None}, True),  # one sub-channel
    ("multi", {"users": 2, "servers": 1, "horizon": 3, "channel": "static", **UNLIMITED}, True),
    ("multi", {"users": 2, "servers": 2, "horizon": 2, "channel": "static", **UNLIMITED}, True),
    ("paper", {"users": 2, "horizon": 3}, True),
    ("multi", {"users": 2, "servers": 1, "horizon": 3, "channel": "iid", **UNLIMITED}, False),
    ("multi", {"users": 2, "servers": 2, "horizon": 2, "channel": "iid", **UNLIMITED}, False),
]
# Where the program is only a relaxation: finite sub-channels, buffers, fluctuating links.
BOUND_ONLY = [
    ("multi", {"users": 3, "servers": 2, "horizon": 3, "uplink_channels": 2, "buffer": 1}),
    ("multi", {"users": 3, "servers": 1, "horizon": 3, "buffer": 1, "channel": "static"}),
    (
        "multi",
        {
            "users": 2,
            "servers": 2,
            "horizon": 4,
            "channel": "markov",
            "outage_probability": 0.3,
            "uplink_channels": 2,
            "buffer": 2,
        },
    ),
    ("multi", {"users": 4, "servers": 2, "horizon": 3, "channel": "rayleigh", "buffer": 2}),
]
MAX_TASKS = {3: 6, 5: 4}  # exhaustive search by the reference: at most 729 / 625 placements


def constants_of(objective: str) -> Objective:
    return Objective("latency" if objective == "latency" else objective, 0.3)


def reference_cost(scenario, episodes, b, objective, places) -> float:
    """The reference simulator's cost of ``places`` (T, U) on system b's episode."""
    system, episode = reference_of(scenario, episodes, b, constants_of(objective))
    result = simulate(system, episode, [[max(int(p), 0) for p in row] for row in places])
    return sum(slot.cost[objective] for slot in result.slots)


def tasks_of(episodes, b) -> list[tuple[int, int]]:
    return [tuple(map(int, x)) for x in np.argwhere(episodes.arrive[b])]


def placement(scenario, tasks, choice) -> np.ndarray:
    places = np.full((scenario.horizon, scenario.users), NO_TASK, dtype=np.int64)
    for (t, u), p in zip(tasks, choice, strict=True):
        places[t, u] = p
    return places


def exhaustive(scenario, episodes, b, objective) -> float:
    """The least reference cost over every placement of the episode's tasks."""
    tasks = tasks_of(episodes, b)
    return min(
        reference_cost(scenario, episodes, b, objective, placement(scenario, tasks, choice))
        for choice in itertools.product(range(scenario.n_places), repeat=len(tasks))
    )


def small_episodes(preset, changes, count):
    """(scenario, episodes, b) with 1 to MAX_TASKS tasks, from fixed seeds."""
    scenario = make_scenario(preset, **changes)
    episodes = draw_episodes(scenario, 12, np.random.default_rng(len(changes) + 7))
    limit = MAX_TASKS[scenario.n_places]
    chosen = [b for b in range(12) if 1 <= episodes.arrive[b].sum() <= limit][:count]
    assert chosen, "no episode of the wanted size"
    return scenario, episodes, chosen


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


@pytest.fixture
def milp_only(monkeypatch):
    """Hindsight without its exhaustive fallback: what the program alone proves."""
    monkeypatch.setattr(hs, "MAX_EXHAUSTIVE_PLACEMENTS", 0)


@pytest.mark.parametrize("case", range(len(SMALL)))
def test_equals_exhaustive_search_with_the_reference(case):
    preset, changes, _ = SMALL[case]
    scenario, episodes, chosen = small_episodes(preset, changes, 3)
    objectives = ("latency", "energy", "weighted") if case in (0, 2) else ("latency",)
    for b in chosen:
        for objective in objectives:
            best = exhaustive(scenario, episodes, b, objective)
            result = hs.hindsight(scenario, episodes, b, objective, constants_of(objective))
            assert close(result.cost, best), (b, objective, result.cost, best)
            assert result.exact
            assert result.lower_bound <= best * (1 + hs.MILP_GAP) + 1e-12


@pytest.mark.parametrize("case", [i for i, c in enumerate(SMALL) if c[2]])
def test_the_program_alone_is_exact_where_documented(case, milp_only):
    preset, changes, _ = SMALL[case]
    scenario, episodes, chosen = small_episodes(preset, changes, 3)
    for b in chosen:
        result = hs.hindsight(scenario, episodes, b, "latency")
        best = exhaustive(scenario, episodes, b, "latency")
        assert result.model_exact
        assert result.exact, (b, result)
        assert close(result.cost, best) and close(result.lower_bound, best)
        # The cost is the reference's cost of the places returned.
        assert close(result.cost, reference_cost(scenario, episodes, b, "latency", result.places))
        has = episodes.arrive[b]
        assert (result.places[~has] == NO_TASK).all()
        assert ((result.places[has] >= 0) & (result.places[has] < scenario.n_places)).all()


@pytest.mark.parametrize("case", range(len(BOUND_ONLY) + len(SMALL)))
def test_the_bound_is_below_every_policy(case, milp_only):
    if case < len(BOUND_ONLY):
        preset, changes = BOUND_ONLY[case]
    else:
        preset, changes, _ = SMALL[case - len(BOUND_ONLY)]
    scenario, episodes, chosen = small_episodes(preset, changes, 2)
    rng = np.random.default_rng(case)
    for b in chosen:
        objective = ("latency", "weighted", "energy")[(case + b) % 3]
        result = hs.hindsight(scenario, episodes, b, objective, constants_of(objective))
        if case < len(BOUND_ONLY):
            assert not result.model_exact
        tasks = tasks_of(episodes, b)
        choices = [np.full(len(tasks), p) for p in range(scenario.n_places)]
        choices += [rng.integers(0, scenario.n_places, len(tasks)) for _ in range(40)]
        costs = [
            reference_cost(scenario, episodes, b, objective, placement(scenario, tasks, c))
            for c in choices
        ]
        costs.append(exhaustive(scenario, episodes, b, objective))
        slack = 1 + hs.MILP_GAP
        assert result.lower_bound <= min(costs) * slack + 1e-12, (result, min(costs))
        assert result.lower_bound <= result.cost * slack + 1e-12
        assert min(costs) <= result.cost * slack + 1e-12  # no policy below the bound...
        # ...and the returned cost is the reference's cost of the returned places.
        assert close(
            result.cost, reference_cost(scenario, episodes, b, objective, result.places), 1e-9
        )
        if result.exact:
            assert close(result.cost, min(costs))


def test_a_larger_exact_episode_is_proved_and_replays():
    scenario = make_scenario("multi", users=4, servers=2, horizon=4, channel="static", **UNLIMITED)
    episodes = draw_episodes(scenario, 1, np.random.default_rng(3))
    result = hs.hindsight(scenario, episodes, 0, "latency")
    assert result.model_exact and result.exact
    assert close(result.cost, reference_cost(scenario, episodes, 0, "latency", result.places), 1e-9)
    assert result.lower_bound <= result.cost


def test_no_task_costs_nothing():
    scenario = make_scenario("tiny", horizon=2, arrival_probability=0.0)
    episodes = draw_episodes(scenario, 1, np.random.default_rng(0))
    result = hs.hindsight(scenario, episodes)
    assert result.cost == 0.0 and result.exact and (result.places == NO_TASK).all()


@pytest.mark.parametrize("objective", ["aoi", "deadline", "speed"])
def test_refuses_other_objectives(objective):
    scenario = make_scenario("tiny", horizon=2)
    episodes = draw_episodes(scenario, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="objective"):
        hs.hindsight(scenario, episodes, 0, objective)


@pytest.mark.parametrize("b", [-1, 2, 1.0, True, "0"])
def test_refuses_bad_systems(b):
    scenario = make_scenario("tiny", horizon=2)
    episodes = draw_episodes(scenario, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="b must"):
        hs.hindsight(scenario, episodes, b)


def test_refuses_bad_time_limits_and_foreign_episodes():
    scenario = make_scenario("tiny", horizon=2)
    episodes = draw_episodes(scenario, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="time_limit"):
        hs.hindsight(scenario, episodes, time_limit=0)
    with pytest.raises(ValueError, match="scenario"):
        hs.hindsight(make_scenario("tiny", horizon=3), episodes)


@pytest.mark.parametrize(
    "changes",
    [
        {"channel": "static", **UNLIMITED},
        {"channel": "static", "uplink_channels": 1, "buffer": 2},
        {"channel": "iid"},
    ],
)
def test_window_cuts_tighten_the_relaxation_and_keep_the_optimum(changes, monkeypatch):
    """The window rows are valid inequalities: the program's optimum stays, its LP
    relaxation's value can only rise."""
    from scipy.optimize import milp

    scenario = make_scenario("multi", users=4, servers=2, horizon=4, **changes)
    one = draw_episodes(scenario, 1, np.random.default_rng(5))
    tasks = hs._Tasks(scenario, one)

    def solve(relax: bool) -> float:
        model = hs._Model(scenario, tasks, one, "latency", Objective(), 1.0)
        integrality = np.zeros_like(model.integrality) if relax else model.integrality
        result = milp(
            model.c,
            integrality=integrality,
            bounds=model.bounds,
            constraints=model.constraints,
            options={"mip_rel_gap": 1e-9},
        )
        assert result.success
        return (result.fun + model.constant) * model.unit

    with_cuts = solve(False), solve(True)
    monkeypatch.setattr(hs, "WINDOW", 0)
    monkeypatch.setattr(hs, "EDGE_WINDOW", 0)
    without = solve(False), solve(True)
    assert close(with_cuts[0], without[0], 1e-5)
    assert with_cuts[1] >= without[1] - 1e-9
