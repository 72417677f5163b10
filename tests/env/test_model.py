"""The system model: hand-computed costs, sampling and validation."""

import math

import numpy as np
import pytest
from env_cases import MB, PAPER_RANGES, one_task

from gym_mecoffload.chain.model import TaskBatch, cost, energy, latency, sample_states, step_costs
from gym_mecoffload.chain.observations import features
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import SCENARIOS, Scenario

# One subtask: 2 MB in, 1 Gcycle, 4 MB out; 1 s/MB device<->edge, 2 s/MB edge<->cloud.
HAND_LATENCY = {
    0: 1.0,  # all on the device: no transfer, 1 Gcycle at 1 GHz
    1: 2 * 1 + 0.5 + 4 * 1,  # 2 MB up, 0.5 s on the edge, 4 MB down
    2: 2 * (1 + 2) + 0 + 4 * (1 + 2),  # through the edge both ways, free cloud execution
}


@pytest.mark.parametrize("place", [0, 1, 2])
def test_latency_of_each_place_by_hand(place):
    assert latency(one_task(), [[place]]) == pytest.approx([HAND_LATENCY[place]])


def test_every_place_pair_by_hand():
    """Two subtasks, 3 MB between them: each pair pays exactly its link's transfer."""
    task = TaskBatch.from_state(
        {
            "cycles": [0, 0],
            "data": [0, 3 * MB, 0],
            "device_hz": 1e9,
            "edge_hz": 1e9,
            "edge_bandwidth": 1 * MB,
            "cloud_bandwidth": 0.25 * MB,
        }
    )
    per_mb = np.array([[0, 1, 1 + 4], [1, 0, 4], [1 + 4, 4, 0]])  # device<->cloud via edge
    for a in range(3):
        for b in range(3):
            assert latency(task, [[a, b]])[0] == pytest.approx(3 * per_mb[a, b]), (a, b)


def test_zero_data_costs_only_execution():
    task = one_task(data=[0, 0])
    assert latency(task, [[0]])[0] == pytest.approx(1.0)
    assert latency(task, [[1]])[0] == pytest.approx(0.5)
    assert latency(task, [[2]])[0] == 0.0


def test_zero_cycles_costs_only_transfer():
    task = one_task(cycles=[0])
    assert latency(task, [[0]])[0] == 0.0
    assert latency(task, [[1]])[0] == pytest.approx(6.0)


def test_finite_cloud_hz_adds_cloud_execution():
    task = one_task(cloud_hz=4e9)
    assert latency(task, [[2]])[0] == pytest.approx(HAND_LATENCY[2] + 0.25)


def test_energy_by_hand():
    task = one_task()
    kappa, tx, rx = 1e-27, 0.5, 0.1
    assert energy(task, [[0]])[0] == pytest.approx(kappa * 1e9 * (1e9) ** 2)  # 1 J on the CPU
    # Edge and cloud: the device sends 2 MB and receives 4 MB over b1; edge<->cloud is free to it.
    for place in (1, 2):
        assert energy(task, [[place]])[0] == pytest.approx(tx * 2 + rx * 4)
    assert energy(task, [[1]], tx_power=1.0, rx_power=0.0)[0] == pytest.approx(2.0)


def test_weighted_mixes_latency_and_energy():
    task = one_task()
    decisions = [[1]]
    w = 0.3
    expected = w * latency(task, decisions) + (1 - w) * energy(task, decisions)
    assert cost(task, decisions, Objective("weighted", latency_weight=w)) == pytest.approx(expected)


def test_cost_is_the_sum_of_step_costs(rng):
    batch = sample_states(50, rng=rng)
    decisions = rng.integers(0, 3, size=(50, 6))
    steps = step_costs(batch)
    previous = np.concatenate([np.zeros((50, 1), int), decisions[:, :-1]], axis=1)
    by_loop = sum(steps[np.arange(50), t, previous[:, t], decisions[:, t]] for t in range(6))
    assert cost(batch, decisions) == pytest.approx(by_loop, rel=1e-12)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_sampling_respects_ranges_and_rng(name):
    scenario = SCENARIOS[name]
    batch = sample_states(2000, scenario=name, rng=np.random.default_rng(0))
    again = sample_states(2000, scenario=scenario, rng=np.random.default_rng(0))
    assert np.array_equal(batch.cycles, again.cycles)
    for field in ("cycles", "data", "device_hz", "edge_hz"):
        low, high = getattr(scenario, field)
        values = getattr(batch, field)
        assert values.min() >= low and values.max() <= high, field
    for field in ("edge_bandwidth", "cloud_bandwidth"):
        values = getattr(batch, field)
        assert values.min() >= scenario.min_bandwidth, field
        assert values.max() <= getattr(scenario, field)[1]
    assert np.isinf(batch.cloud_hz).all()


def test_features_are_engineering_units_and_invertible(rng):
    batch = sample_states(10, n_subtasks=4, rng=rng)
    x = features(batch)
    assert x.dtype == np.float32 and x.shape == (10, 13)
    assert x[:, 0] == pytest.approx(batch.cycles[:, 0] / 1e9, rel=1e-6)
    assert x[:, 12] == pytest.approx(batch.cloud_bandwidth / 1e6, rel=1e-6)
    back = TaskBatch.from_features(x)
    assert back.data == pytest.approx(batch.data, rel=1e-6)


def test_state_round_trip(rng):
    batch = sample_states(3, rng=rng)
    again = TaskBatch.from_state(batch.state(1))
    assert np.array_equal(again.cycles[0], batch.cycles[1])
    assert again.edge_bandwidth[0] == batch.edge_bandwidth[1]


def test_indexing_and_concatenate(rng):
    batch = sample_states(6, rng=rng)
    parts = TaskBatch.concatenate([batch[:2], batch[2:]])
    assert np.array_equal(parts.data, batch.data)
    assert len(batch[3]) == 1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"cycles": [-1.0]}, r"cycles must be finite and >= 0 \(CPU cycles\); got -1\.0"),
        ({"cycles": [math.nan]}, r"cycles must be finite"),
        ({"data": [1.0, math.inf]}, r"data must be finite and >= 0 \(bytes\)"),
        ({"data": [1.0]}, r"data must have one more entry per task than cycles.* must be \(1, 2\)"),
        ({"device_hz": 0.0}, r"device_hz must be finite and > 0 \(Hz\); got 0\.0"),
        ({"edge_hz": math.inf}, r"edge_hz must be finite and > 0"),
        (
            {"edge_bandwidth": 0.0},
            r"edge_bandwidth must be finite and > 0 \(bytes/s\) \(a zero bandwidth",
        ),
        ({"cloud_bandwidth": -3.0}, r"cloud_bandwidth must be finite and > 0"),
        ({"cloud_hz": 0.0}, r"cloud_hz must be > 0 or inf"),
        ({"cycles": [[1.0]]}, r"state\['cycles'\] must be a 1-D sequence"),
        ({"device_hz": [1e9]}, r"state\['device_hz'\] must be a scalar"),
        ({"bandwidth": 1.0}, r"unknown fields \['bandwidth'\]"),
    ],
)
def test_bad_state_names_field_and_allowed(override, message):
    with pytest.raises(ValueError, match=message):
        one_task(**override)


def test_missing_state_field():
    state = one_task().state(0)
    del state["edge_hz"]
    with pytest.raises(ValueError, match=r"misses fields \['edge_hz'\]"):
        TaskBatch.from_state(state)


@pytest.mark.parametrize(
    ("decisions", "message"),
    [
        ([[3]], r"places 0 \(device\), 1 \(edge\) or 2 \(cloud\); got 3"),
        ([[-1]], r"got -1"),
        ([[0, 1]], r"shape \(N, n\) = \(1, 1\)"),
        ([[1.0]], r"must be integers"),
    ],
)
def test_bad_decisions(decisions, message):
    with pytest.raises(ValueError, match=message):
        latency(one_task(), decisions)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cycles": (2.0, 1.0)}, r"cycles must satisfy 0 <= low <= high"),
        ({"device_hz": (0.0, 1e9)}, r"device_hz must have low > 0 Hz"),
        ({"edge_bandwidth": (0.0, 1.0)}, r"below min_bandwidth"),
        ({"min_bandwidth": 0.0}, r"min_bandwidth must be finite and > 0"),
        ({"data": (0, 1, 2)}, r"data must be a \(low, high\) pair of numbers; got 3 values"),
    ],
)
def test_bad_scenario(kwargs, message):
    base = {
        "cycles": (0, 1e9),
        "data": (0, 1e6),
        "device_hz": (1e8, 1e9),
        "edge_hz": (1e8, 1e9),
        "edge_bandwidth": (0, 1e6),
        "cloud_bandwidth": (0, 1e6),
    }
    with pytest.raises(ValueError, match=message):
        Scenario(**{**base, **kwargs})


def test_bad_objective_and_preset():
    with pytest.raises(
        ValueError, match=r"objective must be one of \('latency', 'energy', 'weighted'\)"
    ):
        Objective("speed")
    with pytest.raises(ValueError, match=r"latency_weight must be in \[0, 1\]"):
        Objective("weighted", latency_weight=2.0)
    with pytest.raises(
        ValueError, match=r"unknown scenario 'moon'; presets are \['paper', 'paper-kd'\]"
    ):
        sample_states(1, scenario="moon", rng=np.random.default_rng())
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        sample_states(1, rng=0)


@pytest.mark.parametrize("index", [0, slice(1, 3), [2, 0], np.array([True, False, True, False])])
def test_task_batch_and_its_subsets_are_read_only(index):
    tasks = sample_states(4, rng=np.random.default_rng(0))
    subset = tasks[index]
    for batch in (tasks, subset):
        for name in ("cycles", "data", "device_hz", "edge_bandwidth", "cloud_hz"):
            with pytest.raises(ValueError, match="read-only"):
                getattr(batch, name)[...] = 0


def test_from_features_inverts_features_in_si_units():
    """features() is in Gcycles, MB, GHz and MB/s; from_features gives SI units back."""
    task = one_task(cloud_hz=3e9)
    back = TaskBatch.from_features(features(task), cloud_hz=3e9)
    assert back.cycles.tolist() == [[1e9]] and back.data.tolist() == [[2e6, 4e6]]
    assert (back.device_hz[0], back.edge_hz[0], back.cloud_hz[0]) == (1e9, 2e9, 3e9)
    assert (back.edge_bandwidth[0], back.cloud_bandwidth[0]) == (1e6, 0.5e6)
    tasks = sample_states(50, n_subtasks=4, rng=np.random.default_rng(3))
    again = TaskBatch.from_features(features(tasks))
    for name in ("cycles", "data", "device_hz", "edge_hz", "edge_bandwidth", "cloud_bandwidth"):
        assert np.allclose(getattr(again, name), getattr(tasks, name), rtol=1e-6)  # float32
    assert np.isinf(again.cloud_hz).all()
    with pytest.raises(ValueError, match=r"features must have shape \(N, 2n \+ 5\) with n >= 1"):
        TaskBatch.from_features(np.zeros((2, 8)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cycles": (0.0, 1e-28)}, "cycles's smallest positive draw"),
        ({"data": (0.0, 1e-31)}, "data's smallest positive draw"),
        ({"edge_bandwidth": (0.0, 1e-31), "min_bandwidth": 1e-300}, "edge_bandwidth's lowest draw"),
    ],
)
def test_a_scenario_that_could_draw_what_a_task_refuses_is_refused(change, message):
    """Before, such a scenario was accepted and then about half the resets (a tenth for
    the bandwidth) refused its own draws as below the representable range."""
    with pytest.raises(ValueError, match=message):
        Scenario(**{**PAPER_RANGES, **change})
    # A range a 2**-53 step above 0 stays representable: the paper's do.
    Scenario(**PAPER_RANGES)
