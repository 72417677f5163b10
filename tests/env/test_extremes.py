"""Extreme but valid inputs: a clear error where they enter, or finite outputs inside the spaces.

Property-based (hypothesis): requirements drawn across the whole float64 range,
every objective, both reward modes, both envs and the vector env.
"""

import math

import gymnasium as gym
import numpy as np
import pytest
from env_cases import PAPER_RANGES, one_task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gym_mecoffload
from gym_mecoffload import solvers
from gym_mecoffload.chain.model import STATE_FIELDS, TaskBatch
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import Scenario

# Magnitudes from subnormal to near float64 max, and the exact edges of float32.
MAGNITUDES = st.one_of(
    st.floats(min_value=-330, max_value=308).map(lambda e: 10.0**e),
    st.sampled_from([5e-324, 1e-310, 1.1754944e-29, 1.2e-32, 3.4e44, 3.5e47, 1e300, 1.7e308]),
)
CONSTANTS = st.one_of(st.just(None), st.floats(min_value=-30, max_value=300).map(lambda e: 10.0**e))


# Extreme values every field can represent (the widest common range is 1.2e-29 to 3.4e44).
REPRESENTABLE = st.floats(min_value=-28, max_value=44).map(lambda e: 10.0**e)


@st.composite
def extreme_cases(draw):
    n = draw(st.integers(1, 5))
    # Half the cases stay inside the representable range, to exercise the finite path.
    magnitudes = draw(st.sampled_from([REPRESENTABLE, MAGNITUDES]))
    zeros_ok = st.one_of(st.just(0.0), magnitudes)
    state = {
        "cycles": draw(st.lists(zeros_ok, min_size=n, max_size=n)),
        "data": draw(st.lists(zeros_ok, min_size=n + 1, max_size=n + 1)),
        "device_hz": draw(magnitudes),
        "edge_hz": draw(magnitudes),
        "edge_bandwidth": draw(magnitudes),
        "cloud_bandwidth": draw(magnitudes),
        "cloud_hz": draw(st.one_of(st.just(math.inf), magnitudes)),
    }
    name = draw(st.sampled_from(["latency", "energy", "weighted"]))
    constants = {
        key: value
        for key in ("kappa", "tx_power", "rx_power")
        if (value := draw(CONSTANTS)) is not None
    }
    objective = Objective(name, latency_weight=draw(st.floats(0, 1)), **constants)
    return n, state, objective, draw(st.sampled_from(["absolute", "relative"]))


def names_a_field(error: Exception) -> bool:
    fields = (*STATE_FIELDS, "kappa", "tx_power", "rx_power", "reward_mode", "energy")
    return any(field in str(error) for field in fields)


def assert_finite_info(info):
    for key, value in info.items():
        assert np.isfinite(np.asarray(value, dtype=float)).all(), key


@given(extreme_cases())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_extreme_states_are_refused_clearly_or_stay_finite(case):
    n, state, objective, reward_mode = case
    env = gym.make("MecOffload-v0", n_subtasks=n, objective=objective, reward_mode=reward_mode)
    try:
        observation, _ = env.reset(options={"state": state})
    except ValueError as error:
        assert names_a_field(error), str(error)
        return
    rng = np.random.default_rng(0)
    assert env.observation_space.contains(observation)
    total = 0.0
    for _ in range(n):
        observation, reward, terminated, _, info = env.step(int(rng.integers(3)))
        assert env.observation_space.contains(observation)
        assert math.isfinite(reward)
        total += reward
    assert terminated
    assert_finite_info(info)
    assert info["optimal_cost"] <= info["cost"]
    # The same task through the one-shot env and a vector env: the same finite numbers.
    decision = info["decision"]
    one_shot = gym.make(
        "MecOffloadOneShot-v0", n_subtasks=n, objective=objective, reward_mode=reward_mode
    )
    one_shot.reset(options={"state": state})
    _, reward, *_, shot_info = one_shot.step(decision)
    assert shot_info["cost"] == info["cost"]
    if reward_mode == "absolute":
        assert reward == total
    else:  # a sum of quotients against the quotient of the sum: equal to an ulp
        assert reward == pytest.approx(total, rel=1e-12)


@given(extreme_cases())
@settings(max_examples=150, deadline=None)
def test_solvers_agree_on_every_representable_task(case):
    n, state, objective, _ = case
    try:
        task = TaskBatch.from_state(state)
        exact = solvers.exhaustive(task, objective)
    except ValueError as error:
        assert names_a_field(error), str(error)
        return
    best = solvers.optimal(task, objective)
    costs = gym_mecoffload.cost(task[[0, 0]], np.concatenate([best, exact]), objective)
    assert np.isfinite(costs).all()
    assert costs[0] == pytest.approx(costs[1], rel=1e-12, abs=0.0)  # both exact: ties to an ulp


@pytest.mark.parametrize(
    ("override", "message"),
    [
        # Each case the fuzz campaign found: what it gave before, what it gets now.
        ({"cycles": [1e48]}, r"cycles must be 0 or in the representable range"),  # inf observed
        ({"data": [1e300, 0.0]}, r"data must be 0 or in the representable range"),  # inf observed
        (
            {"edge_bandwidth": 1e-300},
            r"edge_bandwidth must be in the representable range",
        ),  # 0 observed
        (
            {"edge_bandwidth": 1e-310, "data": [0.0, 0.0]},
            r"edge_bandwidth must be in",
        ),  # NaN reward
        ({"cloud_hz": 1e-300}, r"cloud_hz must be in the representable range"),
    ],
)
def test_the_campaigns_extreme_states_are_refused(override, message):
    with pytest.raises(ValueError, match=message):
        one_task(**override)


def test_energy_overflow_names_the_constants():
    # device_hz=1e200 with the weighted objective gave a NaN reward and optimal cost.
    with pytest.raises(ValueError, match=r"device_hz must be in the representable range"):
        one_task(device_hz=1e200)
    env = gym.make("MecOffload-v0", n_subtasks=1, kappa=1e250)
    with pytest.raises(
        ValueError, match=r"device energy kappa \* cycles \* device_hz\*\*2 overflows"
    ):
        env.reset(options={"state": one_task(device_hz=1e40)})
    env = gym.make("MecOffload-v0", n_subtasks=1, tx_power=1e300)
    with pytest.raises(ValueError, match=r"tx_power / edge_bandwidth overflows"):
        env.reset(options={"state": one_task(edge_bandwidth=1e-20)})


def test_relative_reward_refuses_a_quotient_that_overflows():
    task = one_task(data=[0.0, 0.0], cycles=[1e30], device_hz=1e30, edge_hz=1e-20)
    # Optimum: all in the cloud, 0 s... the quotient of any step over it is unbounded.
    env = gym.make("MecOffload-v0", n_subtasks=1, reward_mode="relative")
    with pytest.raises(ValueError, match=r"reward_mode='relative' divides every reward"):
        env.reset(options={"state": task})


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ({"cycles": (0.0, 1e48)}, r"cycles bounds must be 0 or in the representable range"),
        ({"edge_bandwidth": (1e-40, 1e6)}, r"edge_bandwidth bounds must be in"),
    ],
)
def test_scenario_bounds_outside_the_range_are_refused_at_once(bounds, message):
    with pytest.raises(ValueError, match=message):
        Scenario(**{**PAPER_RANGES, **bounds})
