"""The registered environments, on gymnasium 0.29 and 1.x alike."""

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from comparing import assert_same
from env_cases import MB, one_task

import gym_mecoffload
from gym_mecoffload import JointActionWrapper, decode_joint_actions, encode_joint_actions, solvers
from gym_mecoffload.chain.model import cost, energy, latency
from gym_mecoffload.core.objective import Objective

ENV_IDS = sorted(gym_mecoffload.CHAIN_ENV_IDS)


def play(env, seed=None, options=None, policy=None):
    """One episode; returns the rewards and the final info."""
    observation, _ = env.reset(seed=seed, options=options)
    rewards = []
    while True:
        action = env.action_space.sample() if policy is None else policy(observation)
        observation, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        assert truncated is False
        if terminated:
            return rewards, info


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_check_env_without_warnings(env_id):
    # The torch-free gymnasium 1.x run has no SB3; the main run has it.
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_checker.check_env(gym.make(env_id).unwrapped)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_both_make_spellings(env_id):
    assert isinstance(
        gym.make(f"gym_mecoffload:{env_id}").unwrapped, type(gym.make(env_id).unwrapped)
    )


def test_registration_is_idempotent():
    before = {i: gym.spec(i) for i in ENV_IDS}
    gym_mecoffload.register_envs()
    assert {i: gym.spec(i) for i in ENV_IDS} == before


@pytest.mark.parametrize(
    "vector_class", [gym_mecoffload.MecOffloadVectorEnv, gym_mecoffload.MecOffloadOneShotVectorEnv]
)
def test_vector_pickle_round_trip(vector_class):
    env = vector_class(num_envs=3)
    env.reset(seed=5)
    clone = pickle.loads(pickle.dumps(env))
    rng = np.random.default_rng(0)
    for _ in range(15):
        action = rng.integers(0, 3, size=env.action_space.shape)
        assert_same(env.step(action), clone.step(action))


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("objective", ["latency", "energy", "weighted"])
def test_return_is_minus_the_cost(env_id, objective):
    env = gym.make(env_id, objective=objective, latency_weight=0.25)
    env.action_space.seed(0)
    for seed in range(20):
        rewards, info = play(env, seed=seed)
        task = env.unwrapped.task
        decision = info["decision"][None]
        assert sum(rewards) == -info["cost"]  # exactly: both add the links in step order
        expected = cost(task, decision, Objective(objective, latency_weight=0.25))[0]
        assert info["cost"] == pytest.approx(expected, rel=1e-12)
        assert info["latency"] == pytest.approx(latency(task, decision)[0], rel=1e-12)
        assert info["energy"] == pytest.approx(energy(task, decision)[0], rel=1e-12)
        best = solvers.optimal(task, Objective(objective, latency_weight=0.25))
        assert np.array_equal(info["optimal_decision"], best[0])
        assert info["optimal_cost"] <= info["cost"] * (1 + 1e-12)
        assert info["optimal_latency"] == pytest.approx(latency(task, best)[0], rel=1e-12)


def test_sequential_observation_layout():
    env = gym.make("MecOffload-v0")
    observation, _ = env.reset(seed=0)
    assert observation.shape == (26,) and observation.dtype == np.float32
    assert observation[17:23].tolist() == [1, 0, 0, 0, 0, 0]  # subtask 0
    assert observation[23:].tolist() == [1, 0, 0]  # previous place: the device
    observation, *_ = env.step(2)
    assert observation[17:23].tolist() == [0, 1, 0, 0, 0, 0]
    assert observation[23:].tolist() == [0, 0, 1]
    assert np.array_equal(observation[:17], gym_mecoffload.features(env.unwrapped.task)[0])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_given_state_is_played(env_id):
    env = gym.make(env_id, n_subtasks=1)
    state = one_task().state(0)
    _, info = play(
        env, options={"state": state}, policy=lambda _: 1 if env_id == "MecOffload-v0" else [1]
    )
    assert info["latency"] == pytest.approx(6.5)  # 2 MB up, 0.5 s on the edge, 4 MB down
    assert info["optimal_decision"].tolist() == [0]
    assert info["optimal_latency"] == pytest.approx(1.0)


def test_given_state_does_not_disturb_the_sampled_stream():
    a, b = gym.make("MecOffload-v0"), gym.make("MecOffload-v0")
    a.reset(seed=1)
    b.reset(seed=1)
    b.reset(options={"state": a.unwrapped.task.state(0) | {"cycles": [1e9] * 6}})
    assert np.array_equal(a.reset()[0], b.reset()[0])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_reset_options(env_id):
    env = gym.make(env_id)
    with pytest.raises(
        ValueError, match=r"may hold only 'state' and, with it, 'slots'; got \['task'\]"
    ):
        env.reset(options={"task": {}})
    with pytest.raises(
        ValueError, match=r"options\['state'\]\['cycles'\] must have 6 entries for n_subtasks=6"
    ):
        env.reset(options={"state": one_task().state(0)})
    with pytest.raises(ValueError, match=r"edge_bandwidth must be finite and > 0"):
        gym.make(env_id, n_subtasks=1).reset(
            options={"state": one_task().state(0) | {"edge_bandwidth": 0.0}}
        )


@pytest.mark.parametrize("action", [3, -1, 1.0, "edge", [0, 1], True])
def test_sequential_bad_action(action):
    env = gym.make("MecOffload-v0")
    env.reset(seed=0)
    with pytest.raises(
        ValueError, match=r"action must be an integer place 0 \(device\), 1 \(edge\) or 2 \(cloud\)"
    ):
        env.unwrapped.step(action)


@pytest.mark.parametrize("action", [[0] * 5, [0, 1, 2, 3, 0, 0], [0.0] * 6])
def test_one_shot_bad_action(action):
    env = gym.make("MecOffloadOneShot-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be 6 integer places in \{0, 1, 2\}"):
        env.unwrapped.step(np.array(action))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_step_after_the_end_raises(env_id):
    env = gym.make(env_id).unwrapped
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(env.action_space.sample())
    play(env, seed=0)
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(env.action_space.sample())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_subtasks": 0}, ValueError, r"n_subtasks must be an integer >= 1; got 0"),
        ({"scenario": "mars"}, ValueError, r"unknown scenario 'mars'"),
        ({"objective": "speed"}, ValueError, r"objective must be one of"),
        (
            {"objective": "weighted", "latency_weight": -1},
            ValueError,
            r"latency_weight must be in \[0, 1\]",
        ),
        ({"kappa": -1.0}, ValueError, r"kappa must be finite and >= 0"),
        ({"render_mode": "video"}, ValueError, r"render_mode must be None, 'ansi' or 'rgb_array'"),
        (
            {"reward_mode": "scaled"},
            ValueError,
            r"reward_mode must be one of \('absolute', 'relative'\)",
        ),
    ],
)
@pytest.mark.filterwarnings(
    "ignore:.*render_mode:UserWarning"
)  # gym.make's own warning, expected here
def test_bad_env_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        gym.make("MecOffload-v0", **kwargs)


def test_joint_action_wrapper_matches_the_decision():
    env = JointActionWrapper(gym.make("MecOffloadOneShot-v0"))
    assert env.action_space.n == 3**6
    decisions = np.random.default_rng(0).integers(0, 3, size=(50, 6))
    assert np.array_equal(decode_joint_actions(encode_joint_actions(decisions), 6), decisions)
    assert decode_joint_actions(np.array([5]), 3).tolist() == [[0, 1, 2]]  # 5 = 0*9 + 1*3 + 2
    for action in (0, 364, 728):
        env.reset(seed=action)
        *_, info = env.step(action)
        assert np.array_equal(info["decision"], decode_joint_actions(np.array([action]), 6)[0])
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 728\]"):
        env.step(729)
    with pytest.raises(ValueError, match=r"needs a MultiDiscrete"):
        JointActionWrapper(gym.make("MecOffload-v0"))


@pytest.mark.parametrize("actions", [[-1], [3**3], [1.5], [True], [[1]]])
def test_decode_joint_actions_refuses_what_it_would_wrap(actions):
    with pytest.raises(ValueError, match=r"actions must be a 1-D integer array .*\[0, 26\]"):
        decode_joint_actions(np.array(actions), 3)


@pytest.mark.parametrize("decisions", [[[0, 5]], [[0, -1]], [[0.0, 1.0]], [[True, False]], [0, 1]])
def test_encode_joint_actions_refuses_bad_places(decisions):
    with pytest.raises(ValueError, match=r"decisions must be a 2-D \(N, n\) integer array"):
        encode_joint_actions(np.array(decisions))


def test_joint_actions_stop_where_int64_does():
    # 3**39 fits in an int64; 3**40 does not. Beyond, a clear error, not an overflow.
    top = np.full((1, 39), 2)
    assert encode_joint_actions(top)[0] == 3**39 - 1  # exact, checked by Python's integers
    assert np.array_equal(decode_joint_actions(encode_joint_actions(top), 39), top)
    for call in (
        lambda: encode_joint_actions(np.zeros((1, 40), dtype=int)),
        lambda: decode_joint_actions(np.array([0]), 40),
        lambda: JointActionWrapper(gym.make("MecOffloadOneShot-v0", n_subtasks=40)),
    ):
        with pytest.raises(ValueError, match=r"n_subtasks must be an integer in \[1, 39\]"):
            call()


def test_optimal_policy_reaches_the_optimum_in_the_sequential_env():
    env = gym.make("MecOffload-v0", n_subtasks=5)
    for seed in range(10):
        observation, _ = env.reset(seed=seed)
        task = env.unwrapped.task
        t, previous, rewards = 0, 0, []
        while True:
            place = int(solvers.optimal_next_place(task, t, previous)[0])
            observation, reward, terminated, _, info = env.step(place)
            rewards.append(reward)
            t, previous = t + 1, place
            if terminated:
                break
        assert -sum(rewards) == pytest.approx(info["optimal_cost"], rel=1e-12)


def test_data_units_in_a_given_state():
    env = gym.make("MecOffloadOneShot-v0", n_subtasks=1)
    observation, _ = env.reset(options={"state": one_task().state(0)})
    assert observation.tolist() == pytest.approx([1.0, 2.0, 4.0, 1.0, 2.0, 1.0, 0.5])
    assert MB == 1e6


def test_task_pool_draws_only_given_tasks():
    pool = gym_mecoffload.sample_states(3, rng=np.random.default_rng(0))
    env = gym.make("MecOffloadOneShot-v0", task_pool=pool)
    seen = {tuple(env.reset(seed=0 if i == 0 else None)[0]) for i in range(60)}
    assert seen == {tuple(row) for row in gym_mecoffload.features(pool)}
    with pytest.raises(ValueError, match=r"task_pool has 6 subtasks; this env has n_subtasks=2"):
        gym.make("MecOffloadOneShot-v0", n_subtasks=2, task_pool=pool)
    with pytest.raises(ValueError, match=r"task_pool must be a non-empty TaskBatch"):
        gym.make("MecOffloadOneShot-v0", task_pool=[1, 2])


def test_batch_observations_match_the_env():
    env = gym.make("MecOffload-v0", n_subtasks=4)
    observation, _ = env.reset(seed=3)
    x = gym_mecoffload.features(env.unwrapped.task)
    previous = 0
    for t, place in enumerate([2, 0, 1, 1]):
        assert np.array_equal(
            gym_mecoffload.chain.observations.sequential_observations(x, t, previous)[0],
            observation,
        )
        observation, *_ = env.step(place)
        previous = place


@pytest.mark.parametrize("env_id", ["MecOffload-v0", "MecOffloadDag-v0"])
def test_a_refused_reset_leaves_the_episode_as_it_was(env_id):
    """A reset refused for its options must not restart the step count on the old task:
    the episode goes on where it was and ends after n steps in all, its cost theirs."""
    kwargs = {"n_subtasks": 6}
    env, twin = (gym.make(env_id, **kwargs).unwrapped for _ in range(2))
    env.reset(seed=3)
    twin.reset(seed=3)
    for place in (1, 2, 0):
        env.step(place)
        twin.step(place)
    with pytest.raises(ValueError, match="reset options may hold only"):
        env.reset(options={"bogus": 1})
    bad = {"state": {"cycles": [1e9] * 2}} if env_id == "MecOffload-v0" else {"dag": "a.gv"}
    with pytest.raises((ValueError, TypeError)):  # a task of the wrong size, or no DagBatch
        env.reset(options=bad)
    for step in range(3):
        *_, terminated, _, info = env.step(1)
        *_, twin_terminated, _, twin_info = twin.step(1)
        assert terminated == twin_terminated == (step == 2)
    assert info["cost"] == twin_info["cost"]
    assert np.array_equal(info["decision"], twin_info["decision"])


FARAMA_SECTIONS = (
    "## Description",
    "## Action Space",
    "## Observation Space",
    "## Rewards",
    "## Starting State",
    "## Episode End",
    "## Arguments",
    "## Version History",
)


@pytest.mark.parametrize(
    "env_id", sorted(i for i in gym.registry if i.startswith("MecOffload")), ids=str
)
def test_every_env_page_has_the_farama_sections(env_id):
    # The docs' env pages are these docstrings: each must hold the manual's sections, in order.
    import importlib

    module, name = gym.registry[env_id].entry_point.split(":")
    doc = getattr(importlib.import_module(module), name).__doc__ or ""
    places = [doc.find(section) for section in FARAMA_SECTIONS]
    assert -1 not in places, [s for s, p in zip(FARAMA_SECTIONS, places, strict=True) if p == -1]
    assert places == sorted(places)
