"""Quick versions of the multi-user learners: each must have learned (better than random
places and than all-local on fixed test episodes it never trained on)."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.evaluation import evaluate_multi as evaluate
from baselines.multiuser import UserPolicy, distill_student, train_dil, train_sb3
from gym_mecoffload.multi.experts import make_policy
from gym_mecoffload.multi.model import make_scenario

SC = make_scenario("multi", users=4, servers=2, horizon=20)
TEST_SEED = 12_345  # test episodes: a stream no learner draws its training episodes from


@pytest.fixture(scope="module")
def baselines() -> dict[str, float]:
    return {
        name: evaluate(make_policy(name), SC, 200, TEST_SEED).cost_per_task.mean()
        for name in ("random", "local", "myopic")
    }


@pytest.fixture(scope="module")
def dil() -> UserPolicy:
    policy, history = train_dil(
        SC,
        make_policy("myopic"),
        episodes=48,
        dagger_rounds=1,
        epochs=10,
        rng=np.random.default_rng(0),
    )
    assert history.samples[1] > history.samples[0]  # DAgger added the learner's states
    return policy


def learned(policy, baselines) -> float:
    cost = evaluate(policy, SC, 200, TEST_SEED).cost_per_task.mean()
    assert cost < baselines["random"] and cost < baselines["local"], (cost, baselines)
    return cost


def test_dil_learns_and_stays_near_its_expert(dil, baselines):
    cost = learned(dil, baselines)
    assert cost < 1.5 * baselines["myopic"]


def test_the_kd_student_learns_from_the_teacher_alone(dil, baselines):
    student, history = distill_student(
        dil, SC, episodes=48, epochs=20, rng=np.random.default_rng(1)
    )
    assert student.n_parameters < dil.n_parameters / 20
    assert history.epoch_loss[-1] < history.epoch_loss[0]
    learned(student, baselines)


@pytest.mark.parametrize(("algorithm", "steps"), [("dqn", 30_000), ("ppo", 60_000)])
def test_sb3_learners_learn(algorithm, steps, baselines):
    policy, _ = train_sb3(SC, algorithm, timesteps=steps, rng=np.random.default_rng(2))
    learned(policy, baselines)


def test_a_user_policy_places_nothing_for_users_without_a_task(dil):
    from gym_mecoffload.core.objective import Objective
    from gym_mecoffload.multi.core import MultiCore
    from gym_mecoffload.multi.model import draw_episodes

    core = MultiCore(SC, "latency", Objective(), 8)
    core.reset(draw_episodes(SC, 8, np.random.default_rng(3)))
    places = dil(core)
    assert (places[~core.current()["has_task"]] == 0).all()
    assert places.shape == (8, 4) and places.max() < SC.n_places


def test_the_expert_labels_under_the_objective_in_every_dagger_round():
    seen = []
    myopic = make_policy("myopic")

    def expert(core):
        seen.append(core.objective)
        return myopic(core)

    train_dil(SC, expert, episodes=4, dagger_rounds=2, dagger_episodes=2, epochs=1,
              batch_size=64, rng=np.random.default_rng(4), objective="aoi")  # fmt: skip
    assert seen and set(seen) == {"aoi"}


def test_the_dispatchers_features_see_the_earlier_placements_of_the_slot():
    """Hand-computed on the tiny tier (whole-slot times; one sub-channel per server): two
    tasks of 1 cycle-unit and 1 byte in (2 slots on the device, 1 + 1 on an edge, 1 + 1 to
    the cloud) arrive together; the first booked on edge 0 makes the second wait a slot for
    server 0's sub-channel (and its CPU), on the edge and through it to the cloud."""
    from baselines.multiuser import position_features, position_size
    from gym_mecoffload.core.objective import Objective
    from gym_mecoffload.multi.core import MultiCore
    from gym_mecoffload.multi.model import draw_episodes

    sc = make_scenario("tiny")
    episodes = draw_episodes(sc, 1, np.random.default_rng(0))
    for name, value in (("cycles", 1.0), ("input_data", 1.0), ("output_data", 0.0)):
        getattr(episodes, name)[0, 0, :] = value
    episodes.arrive[0, 0, :] = True
    episodes.deadline[0, 0, :] = 3.0
    core = MultiCore(sc, "latency", Objective(), 1)
    core.reset(episodes)
    slot = core.open_slot()
    first = position_features(core, slot, 0)[0]
    assert first.shape == (position_size(sc.servers),) == (34,)
    L, P = 10 + 6 * sc.servers, sc.n_places
    # places: device, edge 0, edge 1, cloud via 0, cloud via 1
    np.testing.assert_allclose(first[L : L + P], [2, 2, 2, 2, 2])  # latency, s
    np.testing.assert_allclose(first[L + P : L + 2 * P], [2, 2, 2, 1, 1])  # work, slots
    np.testing.assert_allclose(
        first[L + 2 * P :], [1, 1e-9]
    )  # one more task, of 1 cycle (1e-9 Gcycles)
    core.commit(slot, core.evaluate(slot, 0, np.array([1])))
    second = position_features(core, slot, 1)[0]
    np.testing.assert_allclose(second[L : L + P], [2, 3, 2, 3, 2])
    np.testing.assert_allclose(second[L + 2 * P :], [0, 0])
    S = sc.servers
    np.testing.assert_allclose(second[8 + S : 8 + 2 * S], [2, 0])  # edge CPU backlogs, slots
    np.testing.assert_allclose(second[8 + 2 * S : 8 + 3 * S], [1, 0])  # booked tasks
    np.testing.assert_allclose(second[8 + 3 * S : 8 + 4 * S], [1, 0])  # sub-channel waits


def test_the_central_dispatcher_learns_its_expert_and_teaches_a_local_student(baselines):
    policy, history = train_dil(
        SC, make_policy("myopic"), episodes=48, dagger_rounds=1, epochs=10,
        rng=np.random.default_rng(5), view="central",
    )  # fmt: skip
    assert history.samples[1] > history.samples[0]
    cost = learned(policy, baselines)
    # The per-place costs are in its features: it should come close to the expert.
    assert cost < 1.1 * baselines["myopic"], (cost, baselines["myopic"])
    student, _ = distill_student(policy, SC, episodes=48, epochs=20, rng=np.random.default_rng(6))
    assert student.net[1].in_features == 10 + 6 * SC.servers  # the device's own view
    learned(student, baselines)
