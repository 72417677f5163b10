"""The DAG family's fast paths equal the slow ones bit for bit: the single-task schedule
against the batched one, and the batched schedule's parents-at-once path against the
parent-by-parent simulation (a subtask's finish as SPEC-DAG's recursion states it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.dag import priority_order
from gym_mecoffload.dag.graphs import generate_dags
from gym_mecoffload.dag.model import Schedule, ScheduleOne

OBJECTIVES = ["latency", "energy", Objective("weighted", 0.3)]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 14),
    density=st.sampled_from([0.1, 0.5, 0.9]),
    contention=st.booleans(),
    objective=st.sampled_from(OBJECTIVES),
)
def test_the_single_task_schedule_is_the_batched_one(seed, n, density, contention, objective):
    rng = np.random.default_rng(seed)
    dags = generate_dags(3, n_subtasks=n, density=density, rng=rng)
    batched = Schedule(dags, contention=contention, objective=objective)
    singles = [ScheduleOne(dags[i], contention=contention, objective=objective) for i in range(3)]
    order = priority_order(dags)
    for k in range(n):
        v = order[:, k]
        finish, end = batched.options(v)
        places = rng.integers(0, 3, 3)
        if k % 2:  # sometimes not asked first, so nothing cached
            batched._options = None
        batched.add(v, places)
        for i, one in enumerate(singles):
            f1, e1 = one.options(int(v[i]))
            assert f1 == finish[i].tolist() and e1 == end[i].tolist()
            one.add(int(v[i]), int(places[i]))
            assert one.finish == batched.finish[i].tolist()
            assert one.end == batched.end[i] and one.energy == batched.energy[i]
            assert one.cost == batched.cost[i]
            if contention:
                assert one.timeline.links == batched.links[i].tolist()
                assert one.timeline.cpus == batched.cpus[i].tolist()


def reference_finish(dags, i, places):
    """SPEC-DAG section 2's recursion without contention, written out for one task: a
    subtask starts once the task's input and every parent's data have arrived."""
    b1, b2 = float(dags.edge_bandwidth[i]), float(dags.cloud_bandwidth[i])
    hz = [float(dags.device_hz[i]), float(dags.edge_hz[i]), float(dags.cloud_hz[i])]

    def moving(amount, a, b):
        hops = {(0, 1): [b1], (1, 0): [b1], (1, 2): [b2], (2, 1): [b2], (0, 2): [b1, b2]}
        hops[(2, 0)] = [b2, b1]
        return sum(amount / bw for bw in hops.get((a, b), []))

    n = dags.n_subtasks
    finish = [0.0] * n
    for v in range(n):  # indices are a topological order
        p = places[v]
        ready = moving(float(dags.input_data[i, v]), 0, p)
        for u in range(v):
            if dags.edges[i, u, v]:
                ready = max(ready, finish[u] + moving(float(dags.edge_data[i, u, v]), places[u], p))
        finish[v] = ready + float(dags.cycles[i, v]) / hz[p]
    return finish


@pytest.mark.parametrize("seed", range(5))
def test_parents_at_once_finish_as_the_recursion_says(seed):
    rng = np.random.default_rng(seed)
    dags = generate_dags(4, n_subtasks=12, density=0.7, rng=rng)
    places = rng.integers(0, 3, (4, 12))
    schedule = Schedule(dags)
    order = priority_order(dags)
    for k in range(12):
        v = order[:, k]
        schedule.add(v, places[np.arange(4), v])
    for i in range(4):
        assert schedule.finish[i] == pytest.approx(reference_finish(dags, i, places[i]), rel=1e-12)


CONFIGS = [
    {"n_subtasks": 7},
    {"n_subtasks": 7, "contention": True},
    {"n_subtasks": 6, "objective": "energy"},
    {"n_subtasks": 6, "objective": Objective("weighted", 0.3), "contention": True},
    {"n_subtasks": 6, "optimum": "milp", "reward_mode": "relative"},
    {"n_subtasks": 6, "contention": True, "optimum": "milp"},
]


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items())
)
def test_the_single_env_steps_as_the_batched_episodes_do(config):
    """The single env's one-task path against the vector env's episodes on the same tasks
    (given as reset options, so the draws cannot differ), entry by entry."""
    import gymnasium as gym

    import gym_mecoffload  # noqa: F401 - registers the ids
    from gym_mecoffload.dag.episodes import DagEpisode, DagEpisodes

    single = gym.make("MecOffloadDag-v0", render_mode="ansi", **config)
    rng = np.random.default_rng(7)
    dags = generate_dags(3, n_subtasks=config["n_subtasks"], rng=rng)
    for i in range(3):
        observation, _ = single.reset(options={"dag": dags[i]})
        episode = single.unwrapped._episodes
        assert isinstance(episode, DagEpisode)
        batched = DagEpisodes(dags[i], episode.labels, episode.settings)
        assert np.array_equal(observation, batched.observations()[0])
        for _ in range(config["n_subtasks"]):
            action = int(rng.integers(0, 3))
            observation, reward, terminated, _, info = single.step(action)
            rewards, final = batched.step(np.array([action]))
            assert np.array_equal(observation, batched.observations()[0])
            assert reward == rewards[0]
            text = single.render()
            assert text == batched.render(0, "ansi", "MecOffloadDagEnv")
        assert terminated and sorted(info) == sorted(final)
        for key, value in final.items():
            assert np.array_equal(np.asarray(info[key]), value[0]), key


@pytest.mark.parametrize("contention", [False, True])
def test_a_rollout_of_one_task_is_its_row_of_a_batched_rollout(contention):
    from gym_mecoffload.dag.episodes import DagSettings, rollout

    dags = generate_dags(4, n_subtasks=8, rng=np.random.default_rng(3))
    settings = DagSettings.for_model(8, contention=contention)

    def decide(observations, episodes):  # a rule of the observation and of the places so far
        seen = episodes.places.sum(axis=1)
        return (observations[:, -6:-3].argmin(axis=1) + seen) % 3

    together, observations, places = rollout(dags, decide, settings, record=True)
    for i in range(4):
        alone, seen, chosen = rollout(dags[i], decide, settings, record=True)
        assert np.array_equal(alone, together[i : i + 1])
        assert np.array_equal(seen, observations[i::4]) and np.array_equal(chosen, places[i::4])
