"""The native vector envs against N single envs, on gymnasium 0.29 and 1.x alike."""

import gymnasium as gym
import numpy as np
import pytest
from comparing import assert_same
from env_cases import one_task

import gym_mecoffload
from gym_mecoffload import MecOffloadOneShotVectorEnv, MecOffloadVectorEnv, solvers
from gym_mecoffload.chain.model import cost
from gym_mecoffload.core.envs import GYMNASIUM_1, check_autoreset_mode
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.dag.envs import MecOffloadDagVectorEnv

PAIRS = [
    ("MecOffload-v0", MecOffloadVectorEnv),
    ("MecOffloadOneShot-v0", MecOffloadOneShotVectorEnv),
]
FINAL_KEYS = (
    "latency",
    "energy",
    "cost",
    "decision",
    "optimal_cost",
    "optimal_latency",
    "optimal_decision",
)


def random_actions(space, rng):
    if isinstance(space, gym.spaces.Discrete):
        return rng.integers(0, space.n, size=None)
    return rng.integers(0, 3, size=space.shape)


@pytest.mark.parametrize(("env_id", "vector_class"), PAIRS)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reward_mode": "relative", "n_subtasks": 4},
        {"objective": Objective("weighted", latency_weight=0.3), "n_subtasks": 3},
    ],
)
def test_each_sub_env_replays_a_single_env_step_for_step(env_id, vector_class, kwargs):
    """Given the task a sub-env got, a single env with the same actions gives the same outputs."""
    num_envs, rng = 5, np.random.default_rng(7)
    vector = vector_class(num_envs=num_envs, **kwargs)
    singles = [gym.make(env_id, **kwargs) for _ in range(num_envs)]
    observations, _ = vector.reset(seed=11)
    for _episode in range(3):  # the first and two autoreset episodes
        tasks = vector.tasks
        for i, single in enumerate(singles):
            single_observation, _ = single.reset(options={"state": tasks[i]})
            assert np.array_equal(observations[i], single_observation)
        while True:
            actions = np.stack([random_actions(s.action_space, rng) for s in singles])
            observations, rewards, terminated, truncated, info = vector.step(actions)
            assert not truncated.any()
            results = [single.step(a) for single, a in zip(singles, actions, strict=True)]
            for i, (obs, reward, term, _, _single_info) in enumerate(results):
                assert rewards[i] == reward
                assert terminated[i] == term
                if not term:
                    assert np.array_equal(observations[i], obs)
            if not terminated.any():
                assert info == {}
                continue
            assert terminated.all()  # every episode lasts n steps: all end together
            finals = [r[4] for r in results]
            last_observations = np.stack([r[0] for r in results])
            if check_autoreset_mode(vector.autoreset_mode) == "next_step":
                assert np.array_equal(observations, last_observations)
                for key in FINAL_KEYS:
                    assert_same(info[key], np.stack([f[key] for f in finals]))
                    assert info[f"_{key}"].all()
                observations, rewards, terminated, _, info = vector.step(actions)  # the reset
                assert (rewards == 0).all() and not terminated.any() and info == {}
            else:
                final_observations = info["final_observation" if not GYMNASIUM_1 else "final_obs"]
                assert np.array_equal(np.stack(list(final_observations)), last_observations)
                final_info = info["final_info"]
                for i, single_final in enumerate(finals):
                    for key in FINAL_KEYS:
                        value = final_info[i][key] if not GYMNASIUM_1 else final_info[key][i]
                        assert np.array_equal(value, single_final[key])
            break


@pytest.mark.parametrize(("env_id", "vector_class"), PAIRS)
@pytest.mark.parametrize("autoreset_mode", ["next_step", "same_step"])
def test_native_vector_env_equals_gymnasiums_sync_vector_env(env_id, vector_class, autoreset_mode):
    """With a pool of one task, every sub-env of both sees the same task: outputs must match,
    info layout included, in the installed gymnasium's autoreset convention."""
    if not GYMNASIUM_1 and autoreset_mode == "next_step":
        pytest.skip("gymnasium 0.29's SyncVectorEnv autoresets on the same step only")
    pool = gym_mecoffload.sample_states(1, n_subtasks=3, rng=np.random.default_rng(3))
    kwargs = {"n_subtasks": 3, "task_pool": pool}
    num_envs, rng = 3, np.random.default_rng(0)
    native = vector_class(num_envs=num_envs, autoreset_mode=autoreset_mode, **kwargs)
    sync_kwargs = {}
    if GYMNASIUM_1:
        sync_kwargs["autoreset_mode"] = getattr(gym.vector.AutoresetMode, autoreset_mode.upper())
    sync = gym.vector.SyncVectorEnv(
        [lambda: gym.make(env_id, **kwargs) for _ in range(num_envs)], **sync_kwargs
    )
    for a, b in zip(native.reset(seed=0), sync.reset(seed=0), strict=True):
        assert_same(a, b)
    for _ in range(12):
        actions = np.stack([random_actions(native.single_action_space, rng) for _ in range(3)])
        for a, b in zip(native.step(actions), sync.step(actions), strict=True):
            assert_same(a, b)


@pytest.mark.parametrize(("env_id", "vector_class"), PAIRS)
def test_seeded_runs_are_identical_and_seeds_differ(env_id, vector_class):
    def run(seed):
        env = vector_class(num_envs=4)
        outputs = [env.reset(seed=seed)[0]]
        rng = np.random.default_rng(1)
        for _ in range(15):
            actions = np.stack([random_actions(env.single_action_space, rng) for _ in range(4)])
            observation, reward, *_ = env.step(actions)
            outputs += [observation, reward]
        return outputs

    first, again, other = run(5), run(5), run(6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_relative_reward_returns_minus_the_normalised_cost():
    """The optimum's return is -1; any decision's is -(its cost / the optimum's), by `cost`."""
    env = gym.make("MecOffload-v0", n_subtasks=4, reward_mode="relative")
    rng = np.random.default_rng(0)
    for seed in range(5):
        env.reset(seed=seed)
        task = env.unwrapped.task
        best = solvers.optimal(task)[0]
        total = sum(env.step(int(place))[1] for place in best)
        assert total == pytest.approx(-1.0, rel=1e-12)
        env.reset(options={"state": task})
        decision = rng.integers(0, 3, size=4)
        total = sum(env.step(int(place))[1] for place in decision)
        ratio = cost(task, decision[None])[0] / cost(task, best[None])[0]
        assert total == pytest.approx(-ratio, rel=1e-12)
    vector = MecOffloadOneShotVectorEnv(num_envs=3, reward_mode="relative")
    vector.reset(seed=0)
    _, rewards, *_ = vector.step(solvers.optimal(vector.tasks).astype(np.int64))
    assert rewards == pytest.approx([-1.0] * 3, rel=1e-12)


def test_relative_reward_refuses_a_task_that_costs_nothing():
    # No data to move and a free cloud: the optimum (all in the cloud) costs 0 seconds.
    task = one_task(data=[0.0, 0.0])
    env = gym.make("MecOffload-v0", n_subtasks=1, reward_mode="relative")
    with pytest.raises(ValueError, match=r"expert's cost, which is 0.0"):
        env.reset(options={"state": task})
    absolute = gym.make("MecOffload-v0", n_subtasks=1)
    absolute.reset(options={"state": task})
    assert absolute.step(2)[1] == 0.0


def test_options_state_gives_one_task_to_all_or_one_each():
    tasks = gym_mecoffload.sample_states(3, rng=np.random.default_rng(0))
    env = MecOffloadVectorEnv(num_envs=3)
    observations, _ = env.reset(options={"state": tasks})
    assert np.array_equal(observations[:, :17], gym_mecoffload.features(tasks))
    observations, _ = env.reset(options={"state": tasks.state(1)})
    assert (observations[:, :17] == gym_mecoffload.features(tasks[1])).all()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: MecOffloadVectorEnv(num_envs=0), ValueError, r"num_envs must be an integer >= 1"),
        (lambda: MecOffloadVectorEnv(num_envs=True), ValueError, r"num_envs must be an integer"),
        (
            lambda: MecOffloadVectorEnv(autoreset_mode="never"),
            ValueError,
            r"autoreset_mode must be one of",
        ),
        (lambda: MecOffloadVectorEnv(render_mode="human"), ValueError, r"render_mode must be"),
        (lambda: MecOffloadVectorEnv(reward_mode=1), ValueError, r"reward_mode must be one of"),
        (lambda: MecOffloadVectorEnv().reset(seed=[1, 2]), TypeError, r"seed must be an int"),
        (lambda: MecOffloadVectorEnv().reset(options=5), TypeError, r"options must be a dict"),
        (
            lambda: MecOffloadVectorEnv().reset(options={"reset_mask": [True]}),
            ValueError,
            r"may hold only 'state'",
        ),
        (
            lambda: MecOffloadVectorEnv(num_envs=2).reset(
                options={"state": gym_mecoffload.sample_states(3, rng=np.random.default_rng(0))}
            ),
            ValueError,
            r"must hold 1 or 2 task\(s\); got a TaskBatch of 3",
        ),
        (lambda: MecOffloadVectorEnv().step([0]), RuntimeError, r"call reset\(\) before step"),
    ],
)
def test_bad_vector_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "actions", [[0, 3], [0, -1], [0.0, 1.0], [True, False], [0], [[0, 1]], "01"]
)
def test_bad_vector_actions(actions):
    env = MecOffloadVectorEnv(num_envs=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must be an integer array of shape \(2,\)"):
        env.step(actions)


@pytest.mark.skipif(not GYMNASIUM_1, reason="gym.make_vec arrived in gymnasium 1.0")
@pytest.mark.parametrize("env_id", sorted(gym_mecoffload.CHAIN_ENV_IDS))
@pytest.mark.parametrize("mode", [None, "vector_entry_point", "sync", "async"])
def test_make_vec_in_every_mode(env_id, mode):
    expected = {
        None: gym_mecoffload.VECTOR_ENTRY_POINTS[env_id].split(":")[1],
        "vector_entry_point": gym_mecoffload.VECTOR_ENTRY_POINTS[env_id].split(":")[1],
        "sync": "SyncVectorEnv",
        "async": "AsyncVectorEnv",
    }[mode]
    env = gym.make_vec(
        env_id, num_envs=2, vectorization_mode=mode, n_subtasks=3, reward_mode="relative"
    )
    try:
        assert type(env).__name__ == expected
        observations, _ = env.reset(seed=0)
        assert env.observation_space.contains(observations)
        env.step(env.action_space.sample())
    finally:
        env.close()


@pytest.mark.skipif(not GYMNASIUM_1, reason="gymnasium 1.x's vector checks")
def test_gymnasium_1_metadata_and_spaces():
    env = gym.make_vec("MecOffload-v0", num_envs=3)
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    assert env.single_observation_space == gym.make("MecOffload-v0").observation_space
    assert env.action_space == gym.spaces.MultiDiscrete([3, 3, 3])


@pytest.mark.parametrize("vector_class", [MecOffloadVectorEnv, MecOffloadDagVectorEnv])
@pytest.mark.parametrize("mode", ["next_step", "same_step"])
def test_the_autoreset_mode_is_gymnasiums_own_value(vector_class, mode):
    """TorchRL's GymWrapper and gymnasium's wrappers read ``env.autoreset_mode`` and compare
    it with gymnasium's AutoresetMode (>= 1.1); a plain string, or no attribute, broke them."""
    kwargs = {"n_subtasks": 4} if vector_class is MecOffloadDagVectorEnv else {}
    vector = vector_class(num_envs=2, autoreset_mode=mode, **kwargs)
    enum = getattr(gym.vector, "AutoresetMode", None)
    if enum is None:  # gymnasium 0.29 and 1.0 name the modes with strings
        assert vector.autoreset_mode == mode
        return
    expected = enum.NEXT_STEP if mode == "next_step" else enum.SAME_STEP
    assert vector.autoreset_mode is expected and vector.metadata["autoreset_mode"] is expected
    again = vector_class(num_envs=2, autoreset_mode=expected, **kwargs)
    assert again.autoreset_mode is expected
