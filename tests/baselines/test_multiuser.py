"""Quick versions of the multi-user learners: each must have learned (better than random
places and than all-local on fixed test episodes it never trained on)."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.multiuser import UserPolicy, distill_student, evaluate, train_dil, train_sb3
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


def test_the_central_variant_places_every_users_task_from_the_global_state(baselines):
    policy, history = train_dil(
        SC, make_policy("myopic"), episodes=48, dagger_rounds=1, epochs=10 * SC.users,
        rng=np.random.default_rng(5), view="central",
    )  # fmt: skip
    assert history.samples[0] == 48 * SC.horizon  # one sample per slot
    learned(policy, baselines)
