"""Nothing turns NaN or inf inside the accepted ranges: what would overflow is refused
with its cause, and expert-relative rewards need an expert cost that divides finitely."""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest

import gym_mecoffload  # noqa: F401 - registers the ids
from gym_mecoffload.chain.model import LinkCosts, sample_tasks
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.dag import cost, priority_order, solvers
from gym_mecoffload.dag.data import generate_dag_dataset
from gym_mecoffload.dag.episodes import DagSettings, rollout
from gym_mecoffload.dag.graphs import generate_dags
from gym_mecoffload.dag.model import energy


def test_dag_energy_that_overflows_is_refused_naming_the_constants():
    dags = generate_dags(2, n_subtasks=5, rng=np.random.default_rng(0))
    # By hand: kappa * cycles * device_hz**2 is beyond a float64 for every subtask.
    assert math.isinf(1e300 * float(dags.cycles.min()) * float(dags.device_hz.min()) ** 2)
    on_device = np.zeros((2, 5), dtype=np.int64)
    with pytest.raises(
        ValueError, match=r"kappa \* cycles \* device_hz\*\*2 overflows.*kappa=1e\+300"
    ):
        energy(dags, on_device, Objective("energy", kappa=1e300))
    with pytest.raises(ValueError, match=r"kappa=1e\+300"):
        cost(dags, on_device, Objective("weighted", kappa=1e300))
    env = gym.make("MecOffloadDag-v0", n_subtasks=5, objective="energy", kappa=1e300)
    with pytest.raises(ValueError, match=r"kappa=1e\+300"):
        env.reset(seed=0)


def test_relative_dag_rewards_refuse_a_task_the_expert_does_for_free():
    dags = generate_dags(1, n_subtasks=5, rng=np.random.default_rng(0))
    free = dataclasses.replace(
        dags,
        cycles=dags.cycles * 0,
        edge_data=dags.edge_data * 0,
        input_data=dags.input_data * 0,
        output_data=dags.output_data * 0,
    )
    env = gym.make("MecOffloadDag-v0", n_subtasks=5, reward_mode="relative", optimum="milp")
    env.reset(seed=0)
    first = env.step(0)
    with pytest.raises(ValueError, match="expert's cost, which is 0.0 for task 0"):
        env.reset(options={"dag": free})
    second = env.step(0)  # the refused reset left the episode as it was
    assert np.isfinite(first[1]) and np.isfinite(second[1]) and not second[2]
    absolute = gym.make("MecOffloadDag-v0", n_subtasks=5, optimum="milp")
    absolute.reset(options={"dag": free})
    assert absolute.step(0)[1] == 0.0


def test_the_optimum_played_at_a_tiny_scale_returns_minus_one():
    # At 1e-9 of the paper's units the MILP once called a placement 1.5x the optimum
    # optimal, and a policy playing the true optimum got a relative return of -0.89.
    base = generate_dags(12, n_subtasks=6, rng=np.random.default_rng(1))
    tiny = dataclasses.replace(
        base,
        cycles=base.cycles * 1e-9,
        edge_data=base.edge_data * 1e-9,
        input_data=base.input_data * 1e-9,
        output_data=base.output_data * 1e-9,
    )
    best = solvers.exhaustive(tiny)
    env = gym.make("MecOffloadDag-v0", n_subtasks=6, reward_mode="relative", optimum="milp")
    for i in range(len(tiny)):
        env.reset(options={"dag": tiny[i]})
        order = priority_order(tiny[i])[0]  # the env places subtasks in this order
        total = 0.0
        for v in order:
            total += env.step(int(best[i, v]))[1]
        assert total == pytest.approx(-1.0, rel=solvers.MILP_GAP)


def test_labels_of_tiny_tasks_are_exact_and_load():
    # Cycles in (0, 20) and bytes in (0, 0.1): the labeller once raised "lower_bound must
    # not exceed the decisions' costs" here.
    scenario = dataclasses.replace(Scenario.preset("paper"), cycles=(0, 20), data=(0, 0.1))
    labelled = generate_dag_dataset(
        40, n_subtasks=6, scenario=scenario, seed=1, shard_size=20, progress=False
    )
    brute = cost(labelled.dags, solvers.exhaustive(labelled.dags))
    assert labelled.exact.all()
    assert np.all(labelled.costs <= brute * (1 + solvers.MILP_GAP))


def test_chain_slots_whose_sum_overflows_are_refused():
    tasks = sample_tasks(Scenario.preset("paper"), 1, 6, rng=np.random.default_rng(0))
    slow = np.ones((1, 7))  # 1 byte/s on every slot
    slots = Slots(slow, np.full((1, 7), 1e6), np.ones((1, 7), dtype=np.int64))
    power = 0.5e308 / float(tasks.data.max())
    objective = Objective("energy", tx_power=power, rx_power=power)
    # By hand: each slot's transfer fits in a float64, their sum does not.
    per_slot = [float(b) * power for b in tasks.data[0]]
    assert all(math.isfinite(x) for x in per_slot) and math.isinf(sum(per_slot))
    with pytest.raises(ValueError, match="task 0's cost over its slots can exceed"):
        LinkCosts(tasks, objective, slots)


@pytest.mark.parametrize("answer", [5, 1.7, -1, True])
def test_a_dag_rollout_refuses_what_is_not_a_place(answer):
    dags = generate_dags(3, n_subtasks=4, rng=np.random.default_rng(0))

    def decide(observations, episodes):
        places = np.zeros(len(observations), dtype=type(answer))
        places[-1] = answer
        return places

    with pytest.raises(ValueError, match=r"decide, at step 0: actions must be .*0 \(device\)"):
        rollout(dags, decide, DagSettings.for_model(4))


@pytest.mark.parametrize("sweeps", [-1, 1.5, True, "2"])
def test_local_search_sweeps_must_be_a_count(sweeps):
    dags = generate_dags(2, n_subtasks=10, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="sweeps must be an integer >= 0"):
        solvers.best_known(dags, sweeps=sweeps)
    with pytest.raises(ValueError, match="sweeps must be an integer >= 0"):
        solvers.local_search(dags, solvers.local(dags), sweeps=sweeps)


def test_a_bool_mixed_into_numbers_is_refused_wherever_numbers_enter():
    # numpy reads [True, 4e8] as [1.0, 4e8]: the dtype alone cannot tell.
    from gym_mecoffload.core.checks import real_array

    with pytest.raises(TypeError, match="cycles must hold real numbers .*a bool"):
        real_array("cycles", [[True, 4e8]], "CPU cycles")
    dags = generate_dags(1, n_subtasks=2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="cycles must hold real numbers"):
        dataclasses.replace(dags, cycles=[[np.True_, 4e8]])
    assert real_array("cycles", [[1, 4e8]], "CPU cycles").tolist() == [[1.0, 4e8]]
