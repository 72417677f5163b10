"""Types before values: every value a user passes gets a clear TypeError or ValueError that
names the field; nothing is coerced from strings, bools or None."""

import gymnasium as gym
import numpy as np
import pytest
from env_cases import PAPER_RANGES, one_task

import gym_mecoffload
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import Scenario


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        # Objective: bools, strings, None and complex are not numbers.
        (lambda: Objective(latency_weight=True), TypeError, r"latency_weight must be a real number; got True"),
        (lambda: Objective(kappa="1e-27"), TypeError, r"kappa must be a real number; got '1e-27'"),
        (lambda: Objective(tx_power=None), TypeError, r"tx_power must be a real number; got None"),
        (lambda: Objective(rx_power=1j), TypeError, r"rx_power must be a real number; got 1j"),
        (lambda: Objective(name=5), ValueError, r"objective must be one of"),
        # Scenario: a string is a sequence, but not a (low, high) pair.
        (lambda: Scenario(**{**PAPER_RANGES, "cycles": "12"}), TypeError, r"cycles must be a \(low, high\) pair of numbers; got '12'"),
        (lambda: Scenario(**{**PAPER_RANGES, "data": (0, "1e6")}), TypeError, r"data bound must be a real number"),
        (lambda: Scenario(**PAPER_RANGES, min_bandwidth="1"), TypeError, r"min_bandwidth must be a real number"),
        (lambda: Scenario(**PAPER_RANGES, cloud_hz=None), TypeError, r"cloud_hz must be a real number"),
        (lambda: Scenario(**PAPER_RANGES, name=3), TypeError, r"name must be a string"),
        # State fields.
        (lambda: one_task(device_hz="1e9"), TypeError, r"state\['device_hz'\] must hold real numbers .*got strings"),
        (lambda: one_task(device_hz=True), TypeError, r"state\['device_hz'\] must hold real numbers .*got bools"),
        (lambda: one_task(edge_hz=None), TypeError, r"state\['edge_hz'\] is missing: expected real numbers .*got None"),
        (lambda: one_task(cycles=["1e9"]), TypeError, r"state\['cycles'\] must hold real numbers"),
        (lambda: one_task(edge_bandwidth=1e6 + 0j), TypeError, r"got complex numbers"),
        (lambda: one_task(cloud_bandwidth={"b2": 1}), TypeError, r"state\['cloud_bandwidth'\] must hold real numbers"),
        (lambda: one_task(data=[[1.0], [1.0, 2.0]]), ValueError, r"state\['data'\] must be a rectangular array"),
        (lambda: one_task(cycles=[[1e9, 2e9], [1e9]]), ValueError, r"its rows have different lengths"),
        (lambda: one_task(cycles=[10**400]), ValueError, r"state\['cycles'\] holds a number beyond a float64"),
        (lambda: TaskBatch.from_state([1, 2]), TypeError, r"state must be a mapping"),
        (lambda: TaskBatch(cycles=[[True]], data=[[1.0, 1.0]], device_hz=1.0, edge_hz=1.0, edge_bandwidth=1.0, cloud_bandwidth=1.0), TypeError, r"cycles must hold real numbers"),
        # Counts.
        (lambda: gym_mecoffload.sample_states(True, rng=np.random.default_rng()), ValueError, r"n_tasks must be an integer >= 0; got True"),
        (lambda: gym_mecoffload.generate_dataset(2.0, rng=np.random.default_rng()), ValueError, r"n_tasks must be an integer >= 0; got 2.0"),
        (lambda: gym_mecoffload.sample_states(3, n_subtasks="6", rng=np.random.default_rng()), ValueError, r"n_subtasks must be an integer >= 1"),
    ],
)  # fmt: skip
def test_bad_types_name_the_field(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_subtasks": "6"}, ValueError, r"n_subtasks must be an integer >= 1; got '6'"),
        ({"n_subtasks": True}, ValueError, r"n_subtasks must be an integer >= 1; got True"),
        ({"scenario": 5}, TypeError, r"scenario must be a preset name"),
        ({"latency_weight": "0.5"}, TypeError, r"latency_weight must be a real number"),
        ({"objective": 5}, TypeError, r"objective must be a name or an Objective"),
        ({"reward_mode": None}, ValueError, r"reward_mode must be one of"),
        ({"task_pool": "pool"}, ValueError, r"task_pool must be a non-empty TaskBatch"),
        (
            {"objective": Objective("energy"), "kappa": 2e-27},
            ValueError,
            r"either in the Objective or as keyword arguments, not both: \['kappa'\]",
        ),
    ],
)
@pytest.mark.parametrize("env_id", sorted(gym_mecoffload.CHAIN_ENV_IDS))
def test_bad_env_kwargs(env_id, kwargs, error, message):
    with pytest.raises(error, match=message):
        gym.make(env_id, **kwargs)
    with pytest.raises(error, match=message):  # the vector env validates alike
        gym_mecoffload.MecOffloadVectorEnv(num_envs=2, **kwargs)


def test_an_objective_with_equal_kwargs_is_no_conflict():
    objective = Objective("energy", kappa=2e-27)
    env = gym.make("MecOffload-v0", objective=objective, kappa=2e-27)
    assert env.unwrapped.objective is objective


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (5, TypeError, r"reset options must be a dict or None; got int"),
        ({"state": 5}, TypeError, r"options\['state'\] must be a mapping"),
        ({"seed": 1}, ValueError, r"may hold only 'state' and, with it, 'slots'; got \['seed'\]"),
    ],
)
def test_bad_reset_options(options, error, message):
    env = gym.make("MecOffload-v0")
    with pytest.raises(error, match=message):
        env.reset(options=options)


def test_a_wrong_cycles_length_is_blamed_on_cycles():
    env = gym.make("MecOffload-v0", n_subtasks=2)
    state = one_task().state(0)  # one subtask: cycles (1,), data (2,)
    state["data"] = [1e6, 1e6, 1e6]  # right for n = 2; cycles is the wrong one
    with pytest.raises(ValueError, match=r"options\['state'\]\['cycles'\] must have 2 entries"):
        env.reset(options={"state": state})


@pytest.mark.parametrize(
    "call",
    [
        lambda x: gym_mecoffload.features(x),
        lambda x: gym_mecoffload.latency(x, [[0]]),
        lambda x: gym_mecoffload.energy(x, [[0]]),
        lambda x: gym_mecoffload.solvers.optimal(x),
        lambda x: gym_mecoffload.solvers.exhaustive(x),
        lambda x: gym_mecoffload.solvers.greedy(x),
        lambda x: gym_mecoffload.solvers.local(x),
        lambda x: gym_mecoffload.solvers.random(x, np.random.default_rng()),
        lambda x: gym_mecoffload.solvers.optimal_q(x),
        lambda x: gym_mecoffload.solvers.optimal_next_place(x, 0, 0),
        lambda x: gym_mecoffload.solvers.optimal_one(x),
        lambda x: gym_mecoffload.solvers.SINGLE_TASK_SOLVERS["cloud"](x),
    ],
)
def test_batch_functions_refuse_what_is_not_a_task_batch(call):
    with pytest.raises(TypeError, match=r"must be a TaskBatch \(TaskBatch.from_state"):
        call(one_task().state(0))
