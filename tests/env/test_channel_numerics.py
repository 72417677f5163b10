"""Channels at every scale the API accepts, and no bad input let through (the issue "Exact
means exact at every scale, and no bad input gets through").

Each claim is checked against an independent computation: brute force over every decision
with latencies coded by hand, a closed form, scipy's adaptive quadrature, exact decimal
arithmetic or Monte Carlo with a stated tolerance; never against the code's own output.
"""

import dataclasses
import decimal
import itertools
import math

import gymnasium as gym
import numpy as np
import pytest
from scipy import integrate

import gym_mecoffload  # noqa: F401 - registers the ids
from gym_mecoffload.chain.model import TaskBatch, cost, sample_states
from gym_mecoffload.channels import ChannelModel, MarkovChannel, RayleighChannel
from gym_mecoffload.channels.experts import (
    CertaintyEquivalent,
    MdpExpert,
    SequentialGreedy,
    clairvoyant,
    reference_decisions,
    rollout,
)
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.scenario import as_scenario

FLOOR = 1e4  # the paper scenario's min_bandwidth, bytes/s
N_SUBTASKS = 4
EVERY_DECISION = list(itertools.product(range(3), repeat=N_SUBTASKS))


def _tasks(size, seed):
    return sample_states(size, n_subtasks=N_SUBTASKS, rng=np.random.default_rng(seed))


def _rayleigh(mean_snr_db, bandwidth_hz, scenario="paper"):
    channel = RayleighChannel(bandwidth_hz=bandwidth_hz, mean_snr_db=mean_snr_db)
    return ChannelModel.build(channel, 0.0, scenario)


def _hand_latency(state, decision, edge, cloud):
    """SPEC.md section 1 in plain Python, every transfer at bandwidths (edge, cloud) bytes/s
    (inf: a free link)."""
    hz = [state["device_hz"], state["edge_hz"], state["cloud_hz"]]
    places = [0, *decision, 0]
    total = 0.0
    for k, data in enumerate(state["data"]):
        a, b = places[k], places[k + 1]
        if a != b and min(a, b) == 0:
            total += data / edge
        if a != b and max(a, b) == 2:
            total += data / cloud
        if k < len(decision):
            total += state["cycles"][k] / hz[decision[k]]
    return total


def _brute_force(tasks, edge, cloud):
    """The least latency of each task over all 3**n decisions, at fixed bandwidths."""
    return np.array(
        [
            min(_hand_latency(tasks.state(i), d, edge, cloud) for d in EVERY_DECISION)
            for i in range(tasks.n_tasks)
        ]
    )


def _floor_gain(mean_snr_db, bandwidth_hz, floor=FLOOR):
    """g_floor by hand: W log2(1 + snr g) / 8 = floor, i.e. g = (2**(8 floor / W) - 1) / snr."""
    exponent = 8.0 * floor / bandwidth_hz * math.log(2.0)
    if exponent > 700.0:  # 2**(8 floor / W) beyond a float: the gain is astronomically large
        return math.inf
    return math.expm1(exponent) / 10.0 ** (mean_snr_db / 10.0)


# (mean SNR dB, width Hz) where the floor's gain is above 40: P(above the floor) =
# exp(-g_floor) < 5e-18, below a double's resolution of 1, so every slot sits at the floor.
PINNED = [(-50.0, 4e6), (-47.0, 4e6), (-100.0, 4e6), (0.0, 6e3), (10.0, 5e3), (100.0, 1.0)]


@pytest.mark.parametrize(("mean_snr_db", "bandwidth_hz"), PINNED)
def test_a_channel_pinned_at_its_floor_costs_the_static_optimum_at_the_floor(
    mean_snr_db, bandwidth_hz
):
    assert _floor_gain(mean_snr_db, bandwidth_hz) > 40.0
    model = _rayleigh(mean_snr_db, bandwidth_hz)
    tasks = _tasks(6, seed=1)
    at_floor = _brute_force(tasks, FLOOR, FLOOR)
    expert = MdpExpert(tasks, model)
    lower, upper = expert.expected_cost_bounds()
    np.testing.assert_allclose(expert.expected_cost(), at_floor, rtol=1e-9)
    np.testing.assert_allclose(lower, at_floor, rtol=1e-9)
    np.testing.assert_allclose(upper, at_floor, rtol=1e-9)
    # The policy too: on realised slots (all at the floor) it pays the optimum.
    drawn, slots = model.realise(tasks, np.random.default_rng(0))
    assert (slots.edge_bandwidths == FLOOR).all() and (slots.cloud_bandwidths == FLOOR).all()
    paid = cost(drawn, rollout(drawn, slots, expert), "latency", slots)
    np.testing.assert_allclose(paid, at_floor, rtol=1e-9)


def test_the_env_reports_the_experts_cost_on_a_pinned_channel_as_the_optimum():
    """The issue's case: on a channel pinned at its floor, info["mdp_cost"] was 887.9 against
    an optimum of 41.3; it must be the brute-force optimum at the floor."""
    env = gym.make("MecOffload-v0", channel=RayleighChannel(mean_snr_db=-50.0), n_subtasks=4)
    env.reset(seed=0)
    for _ in range(5):
        task = TaskBatch.from_state(env.unwrapped.task.state(0))
        while True:
            *_, terminated, _, info = env.step(0)
            if terminated:
                break
        assert (np.asarray(info["edge_bandwidths"]) == FLOOR).all()
        best = _brute_force(task, FLOOR, FLOOR)[0]
        assert info["mdp_cost"] == pytest.approx(best, rel=1e-9, abs=0)
        assert info["optimal_cost"] == pytest.approx(best, rel=1e-9, abs=0)
        env.reset()


@pytest.mark.parametrize(
    "mean_snr_db", [-100.0, -80.0, -50.0, -47.0, -30.0, -20.0, 0.0, 30.0, 60.0, 100.0]
)
@pytest.mark.parametrize("bandwidth_hz", [1.0, 5e3, 6e3, 6e4, 4e6, 1e15])
def test_the_experts_bounds_are_finite_and_inside_hand_bounds_at_every_scale(
    mean_snr_db, bandwidth_hz
):
    """Every slot is at least the floor and at most a free link, so the expected optimum
    lies between the static optimum with free links and the one at the floor; the
    quadrature's bracket must too (its cells lie in [0, 1 / floor] s/byte)."""
    tasks = _tasks(3, seed=2)
    expert = MdpExpert(tasks, _rayleigh(mean_snr_db, bandwidth_hz))
    lower, upper = expert.expected_cost_bounds()
    assert np.isfinite(expert.expected_cost()).all()
    assert (expert.expected_cost() == upper).all()
    free = _brute_force(tasks, math.inf, math.inf)
    at_floor = _brute_force(tasks, FLOOR, FLOOR)
    assert (free * (1 - 1e-12) <= lower).all()
    assert (lower <= upper * (1 + 1e-12)).all()
    assert (upper <= at_floor * (1 + 1e-12)).all()


@pytest.mark.parametrize(
    ("mean_snr_db", "bandwidth_hz"),
    [(-20.0, 4e6), (-30.0, 4e6), (0.0, 6e4), (60.0, 4e6)],
)
def test_the_bracket_holds_around_a_monte_carlo_estimate_of_the_experts_cost(
    mean_snr_db, bandwidth_hz
):
    """Mixed regimes (the floor likely but not sure): the expert's mean realised cost over
    fresh slots is at least the bracket's lower end and at most its upper end plus the
    quadrature's own error, within 4 standard errors."""
    model = _rayleigh(mean_snr_db, bandwidth_hz)
    tasks = _tasks(3, seed=3)
    lower, upper = MdpExpert(tasks, model).expected_cost_bounds()
    episodes = 10_000
    repeated = tasks[np.repeat(np.arange(len(tasks)), episodes)]
    drawn, slots = model.realise(repeated, np.random.default_rng(4))
    values = cost(drawn, rollout(drawn, slots, MdpExpert(drawn, model)), "latency", slots)
    values = values.reshape(len(tasks), episodes)
    mean = values.mean(axis=1)
    slack = 4 * values.std(axis=1, ddof=1) / math.sqrt(episodes) + 1e-12 * mean
    assert (lower - slack <= mean).all(), (lower, mean, slack)
    assert (mean <= upper + (upper - lower) + slack).all(), (upper, mean, slack)


def _mean_time_by_quad(mean_snr_db, bandwidth_hz, floor):
    """E[1 / b] (s/byte) by scipy's adaptive quadrature: the floor's mass times 1 / floor,
    plus the integral of e^-g / b(g) above the floor's gain (in s = ln g, smooth there)."""
    snr = 10.0 ** (mean_snr_db / 10.0)
    g_floor = _floor_gain(mean_snr_db, bandwidth_hz, floor)

    def integrand(s):
        g = math.exp(s)
        bandwidth = bandwidth_hz / 8.0 * math.log1p(snr * g) / math.log(2.0)
        return math.exp(-g) * g / bandwidth

    above, error = integrate.quad(
        integrand, math.log(g_floor), math.log(g_floor + 60.0), limit=2000, epsabs=0, epsrel=1e-13
    )
    assert error < 1e-12 * above
    return -math.expm1(-g_floor) / floor + above


@pytest.mark.parametrize(
    ("mean_snr_db", "bandwidth_hz", "floor"),
    [
        (10.0, 4e6, FLOOR),  # the default
        (100.0, 4e6, FLOOR),  # the old 64-node cells were 1.2e-4 off here
        (30.0, 1e15, FLOOR),  # and 5e-4 here: a floor far below the typical bandwidth
        (-80.0, 1e15, FLOOR),  # log2(1 + 1e-8 g) kept 8 digits
        (-20.0, 4e6, FLOOR),
        (-30.0, 4e6, FLOOR),
        (0.0, 4e6, 1e-20),  # a scenario whose floor is 1e-20 bytes/s
        (100.0, 1e15, 1e-30),
    ],
)
def test_the_rayleigh_cells_give_the_laws_mean_time_and_floor_mass(
    mean_snr_db, bandwidth_hz, floor
):
    scenario = dataclasses.replace(as_scenario("paper"), min_bandwidth=floor, name="floor")
    law = _rayleigh(mean_snr_db, bandwidth_hz, scenario).link_laws()[0]
    cells = law.cells(16)
    assert (cells.probability > 0).all()
    assert cells.probability.sum() == pytest.approx(1.0, rel=1e-14)
    # The floor atom's mass: 1 - exp(-g_floor), by hand.
    assert cells.probability[0] == pytest.approx(
        -math.expm1(-_floor_gain(mean_snr_db, bandwidth_hz, floor)), rel=1e-12, abs=0
    )
    assert cells.mean[0] == 1 / floor
    assert ((cells.low <= cells.mean) & (cells.mean <= cells.high)).all()
    quadrature = (cells.probability * cells.mean).sum()
    # abs=0: E[1/b] is as small as 1e-15 s/byte here, below pytest's default abs of 1e-12.
    assert quadrature == pytest.approx(
        _mean_time_by_quad(mean_snr_db, bandwidth_hz, floor), rel=1e-11, abs=0
    )


def test_a_low_snr_bandwidth_keeps_every_digit():
    """At -100 dB, 1 + snr * g rounds away 6 digits of snr * g: the bandwidth must not."""
    law = _rayleigh(-100.0, 1e15).link_laws()[0]
    decimal.getcontext().prec = 60
    gains = np.random.default_rng(5).exponential(1.0, size=200)
    drawn = law.sample(np.random.default_rng(5), (200,))
    snr, width = decimal.Decimal(law.snr), decimal.Decimal(law.width_hz)
    for gain, bandwidth in zip(gains, drawn, strict=True):
        exact = width / 8 * (1 + snr * decimal.Decimal(float(gain))).ln() / decimal.Decimal(2).ln()
        expected = max(FLOOR, float(exact))
        assert bandwidth == pytest.approx(expected, rel=1e-13, abs=0)


def test_clairvoyant_on_none_is_the_static_reliable_channels_optimum():
    """None is the static, reliable channel everywhere in the package: every transfer at
    the tasks' own bandwidths, once. Anything but Slots or None is refused."""
    tasks = _tasks(5, seed=6)
    decisions = clairvoyant(tasks, None)
    for i in range(len(tasks)):
        state = tasks.state(i)
        best = min(
            _hand_latency(state, d, state["edge_bandwidth"], state["cloud_bandwidth"])
            for d in EVERY_DECISION
        )
        paid = _hand_latency(
            state, decisions[i].tolist(), state["edge_bandwidth"], state["cloud_bandwidth"]
        )
        assert paid == pytest.approx(best, rel=1e-12, abs=0)
    # A rollout on None sees the tasks' own bandwidths at every step.
    seen = []

    def record(step, previous, edge, cloud):
        seen.append((edge.copy(), cloud.copy()))
        return np.zeros(len(tasks), dtype=np.int64)

    rollout(tasks, None, record)
    for edge, cloud in seen:
        assert (edge == tasks.edge_bandwidth).all() and (cloud == tasks.cloud_bandwidth).all()
    for bad in ("none", {"edge_bandwidths": 1e6}, (np.ones((5, 5)),) * 3):
        with pytest.raises(TypeError, match="slots must be a Slots .* or None"):
            clairvoyant(tasks, bad)
        with pytest.raises(TypeError, match="slots must be a Slots .* or None"):
            rollout(tasks, bad, record)
    wrong = Slots(np.full((5, 3), 1e6), np.full((5, 3), 1e6), np.ones((5, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="shape"):
        clairvoyant(tasks, wrong)


EXPERTS = [MdpExpert, CertaintyEquivalent, SequentialGreedy]
BAD_BANDWIDTHS = [
    ("1e6", TypeError, "must hold real numbers"),
    (True, TypeError, "must hold real numbers"),
    (np.ones(3, dtype=bool), TypeError, "must hold real numbers"),
    ([True, 1e6, 1e6], TypeError, "must hold real numbers"),  # numpy reads it as floats
    (1e6 + 0j, TypeError, "must hold real numbers"),
    (None, TypeError, "missing"),
    (float("nan"), ValueError, "finite and > 0"),
    (float("inf"), ValueError, "finite and > 0"),
    (-1e6, ValueError, "finite and > 0"),
    (0.0, ValueError, "finite and > 0"),
    (1e-300, ValueError, "representable range"),
    ([1e6, 1e6], ValueError, r"a number or a \(3,\) array"),
    ([[1e6] * 3], ValueError, r"a number or a \(3,\) array"),
]


@pytest.mark.parametrize("expert", EXPERTS)
@pytest.mark.parametrize("field", ["edge_bandwidth", "cloud_bandwidth"])
@pytest.mark.parametrize(("value", "error", "message"), BAD_BANDWIDTHS)
def test_an_expert_refuses_a_bandwidth_that_is_not_one(expert, field, value, error, message):
    tasks = _tasks(3, seed=7)
    policy = expert(tasks, ChannelModel.build("iid", 0.0, "paper"))
    bandwidths = {"edge_bandwidth": 1e6, "cloud_bandwidth": 1e6, field: value}
    with pytest.raises(error, match=f"^{field} .*{message}"):
        policy(0, 0, **bandwidths)


@pytest.mark.parametrize("expert", EXPERTS)
def test_an_expert_takes_an_observations_float32_bandwidths_as_their_values(expert):
    tasks = _tasks(3, seed=7)
    policy = expert(tasks, ChannelModel.build("markov", 0.0, "paper"))
    edge = np.array([0.3e6, 1.1e6, 1.9e6], dtype=np.float32)
    cloud = np.array([2.5e6, 0.2e6, 1.0e6], dtype=np.float32)
    np.testing.assert_array_equal(
        policy(1, [0, 1, 2], edge, cloud),
        policy(1, [0, 1, 2], edge.astype(np.float64).tolist(), cloud.astype(np.float64).tolist()),
    )


@pytest.mark.parametrize(
    "returned",
    [
        5,
        1.7,
        -1,
        np.array([True, False, True]),
        np.zeros(2, dtype=np.int64),
        np.zeros((3, 1), dtype=np.int64),
        np.array([0.0, 1.0, 2.0]),
        "1",
        None,
        [0, 3, 1],
        [True, 0, 1],
    ],
)
def test_rollout_refuses_a_policy_that_returns_no_places_naming_the_step(returned):
    tasks = _tasks(3, seed=8)

    def policy(step, previous, edge, cloud):
        return np.ones(3, dtype=np.int64) if step == 0 else returned

    with pytest.raises(ValueError, match=r"at step 1 .*places 0 \(device\), 1 \(edge\) or 2"):
        rollout(tasks, None, policy)


def test_rollout_takes_places_as_an_integer_or_an_integer_array():
    tasks = _tasks(3, seed=8)
    answers = {0: 2, 1: [0, 1, 2], 2: np.array([2, 2, 0], dtype=np.uint8), 3: np.int8(1)}
    decisions = rollout(tasks, None, lambda step, *_: answers[step])
    expected = np.array([[2, 0, 2, 1], [2, 1, 2, 1], [2, 2, 0, 1]])
    np.testing.assert_array_equal(decisions, expected)
    with pytest.raises(TypeError, match="policy must be callable"):
        rollout(tasks, None, "greedy")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: RayleighChannel(bandwidth_hz="4e6"), TypeError, "bandwidth_hz must be a real"),
        (
            lambda: RayleighChannel(bandwidth_hz=("4e6", 4e6)),
            TypeError,
            "bandwidth_hz must hold real",
        ),
        (
            lambda: RayleighChannel(bandwidth_hz=[True, 4e6]),
            TypeError,
            "bandwidth_hz must hold real",
        ),
        (lambda: RayleighChannel(bandwidth_hz=-4e6), ValueError, "bandwidth_hz must be in"),
        (lambda: MarkovChannel(edge_levels=[True, 2e6]), TypeError, "edge_levels must hold real"),
        (
            lambda: RayleighChannel(bandwidth_hz=(4e6, math.nan)),
            ValueError,
            "bandwidth_hz must be in",
        ),
        (
            lambda: RayleighChannel(mean_snr_db=np.array(10.0)),
            ValueError,
            "mean_snr_db must be a number or an",
        ),
        (
            lambda: RayleighChannel(mean_snr_db=np.ones((2, 1))),
            ValueError,
            "mean_snr_db must be a number or an",
        ),
        (
            lambda: RayleighChannel(mean_snr_db=-120.0),
            ValueError,
            r"mean_snr_db must be in \[-100, 100\]",
        ),
        (
            lambda: RayleighChannel(mean_snr_db=math.inf),
            ValueError,
            r"mean_snr_db must be in \[-100, 100\]",
        ),
        (
            lambda: ChannelModel.build("iid", "0.1", "paper"),
            TypeError,
            "outage_probability must be a real",
        ),
        (
            lambda: ChannelModel.build("iid", math.inf, "paper"),
            ValueError,
            "outage_probability must be in",
        ),
    ],
)
def test_channel_parameters_that_are_not_numbers_in_range_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_the_channel_entry_points_refuse_what_is_not_a_generator_or_a_batch():
    tasks = _tasks(2, seed=9)
    model = ChannelModel.build("rayleigh", 0.1, "paper")
    for rng in (None, 3, np.random.RandomState(0)):
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
            model.realise(tasks, rng)
        with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
            reference_decisions(tasks, None, model, rng)
    with pytest.raises(TypeError, match="tasks must be a TaskBatch"):
        model.realise(tasks.state(0), np.random.default_rng(0))
    with pytest.raises(TypeError, match="tasks must be a TaskBatch"):
        reference_decisions(tasks.state(0), None, model, np.random.default_rng(0))
    with pytest.raises(TypeError, match="slots must be a Slots"):
        reference_decisions(tasks, "slots", model, np.random.default_rng(0))
