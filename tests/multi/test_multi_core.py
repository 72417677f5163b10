"""The batched core against the reference simulator (tests/multi/reference.py), which was
written from SPEC-MULTI alone and shares no code with the package."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference import simulate
from reference_inputs import reference_of

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.model import draw_episodes, make_scenario

OBJECTIVES = ("latency", "energy", "weighted", "deadline")


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


CASES = [
    ("multi", {}),
    ("multi", {"channel": "markov", "outage_probability": 0.3, "buffer": 2, "uplink_channels": 1}),
    ("multi", {"channel": "rayleigh", "arrivals": "mmpp", "buffer": [1, None, 3]}),
    ("multi", {"uplink_channels": [1, 3, None], "cloud_hz": 5e9, "arrival_probability": 0.9}),
    ("paper", {}),
    ("tiny", {}),
    ("multi", {"users": 3, "servers": 1, "buffer": 1, "drop_penalty": 0.7, "horizon": 12}),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("objective", OBJECTIVES + ("aoi",))
def test_core_equals_the_reference_simulator(case, objective):
    preset, changes = CASES[case]
    scenario = make_scenario(preset, **changes)
    rng = np.random.default_rng(case)
    B = 3
    episodes = draw_episodes(scenario, B, rng)
    constants = Objective("weighted" if objective == "weighted" else "latency", 0.3)
    core = MultiCore(scenario, objective, constants, B)
    core.reset(episodes)
    places = rng.integers(0, scenario.n_places, size=(scenario.horizon, B, scenario.users))
    results = [core.step(places[t]) for t in range(scenario.horizon)]
    for b in range(B):
        system, episode = reference_of(scenario, episodes, b, constants)
        ref = simulate(system, episode, [list(places[t, b]) for t in range(scenario.horizon)])
        for t, slot in enumerate(ref.slots):
            got = results[t]
            assert sorted(r.user for r in slot.tasks) == list(np.flatnonzero(got.has_task[b]))
            for r in slot.tasks:
                u = r.user
                assert got.dropped[b, u] == r.dropped
                assert got.missed[b, u] == r.missed
                if not r.dropped:
                    assert close(got.latency[b, u], r.latency), (t, u)
                assert close(got.energy[b, u], r.energy)
                if objective != "aoi":
                    assert close(got.cost[b, u], r.costs[objective])
                    rel = r.relative[objective]
                    if rel is not None:
                        assert close(got.relative[b, u], rel)
            for u in range(scenario.users if objective == "aoi" else 0):
                assert math.isclose(
                    got.aoi[b, u],
                    slot.aoi_per_user[u],
                    rel_tol=1e-9,
                    abs_tol=1e-9 * scenario.slot_seconds**2,
                )
            if objective == "aoi":
                assert math.isclose(got.cost[b].sum(), slot.aoi, rel_tol=1e-9, abs_tol=1e-12)
        # The episode's age from the records, under every objective.
        per_user = core.episode_aoi()[b]
        for u in range(scenario.users):
            expected = sum(slot.aoi_per_user[u] for slot in ref.slots)
            assert math.isclose(per_user[u], expected, rel_tol=1e-9, abs_tol=1e-9)
