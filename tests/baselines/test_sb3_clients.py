"""Stable-Baselines3 on our envs: its own helpers by id, and the native vector env under it."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from comparing import assert_same
from scoring import normalised, random_normalised
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv

import gym_mecoffload
from baselines.dqn import train_dqn
from baselines.ppo import train_ppo
from baselines.vec_env import MecOffloadSB3VecEnv
from gym_mecoffload.dag.graphs import generate_dags

ENV_IDS = sorted(gym_mecoffload.CHAIN_ENV_IDS)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_make_vec_env_by_id_renders(env_id):
    # SB3 asks for render_mode="rgb_array" and retries only on TypeError.
    env = make_vec_env(env_id, n_envs=4, seed=0)
    assert env.render_mode == "rgb_array"
    assert env.reset().shape[0] == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3's tiling warns about non-square grids
        image = env.render(mode="rgb_array")
    assert image.dtype == np.uint8 and image.shape == (2 * 256, 2 * 640, 3)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_vec_env_equals_dummy_vec_env(env_id):
    """With a pool of one task, every sub-env of both sees the same task: SB3's own
    DummyVecEnv over single envs is the independent reference, infos included."""
    pool = gym_mecoffload.sample_states(1, n_subtasks=3, rng=np.random.default_rng(4))
    kwargs = {"n_subtasks": 3, "task_pool": pool, "reward_mode": "relative"}
    native = MecOffloadSB3VecEnv(env_id, 3, **kwargs)
    dummy = DummyVecEnv([lambda: gym.make(env_id, **kwargs) for _ in range(3)])
    native.seed(0)
    dummy.seed(0)
    assert_same(native.reset(), dummy.reset())
    rng = np.random.default_rng(0)
    for _ in range(10):
        actions = rng.integers(0, 3, size=(3, *dummy.action_space.shape))
        native.step_async(actions)
        dummy.step_async(actions)
        assert_same(native.step_wait(), dummy.step_wait())


def test_sb3_vec_env_serves_the_dag_family_as_dummy_vec_env_does():
    """Every family's vector env steps in the same-step convention SB3 wants: the DAG env's
    too, checked against SB3's DummyVecEnv over single envs on a pool of one graph."""
    pool = generate_dags(1, n_subtasks=5, rng=np.random.default_rng(2))
    kwargs = {"n_subtasks": 5, "task_pool": pool, "contention": True}
    native = MecOffloadSB3VecEnv("MecOffloadDag-v0", 3, **kwargs)
    dummy = DummyVecEnv([lambda: gym.make("MecOffloadDag-v0", **kwargs) for _ in range(3)])
    native.seed(0)
    dummy.seed(0)
    assert_same(native.reset(), dummy.reset())
    rng = np.random.default_rng(0)
    for _ in range(12):  # two episodes and a bit: the same-step autoresets included
        actions = rng.integers(0, 3, size=3)
        native.step_async(actions)
        dummy.step_async(actions)
        assert_same(native.step_wait(), dummy.step_wait())


def test_joint_actions_decode_like_the_wrapper():
    env = MecOffloadSB3VecEnv("MecOffloadOneShot-v0", 2, n_subtasks=2, joint_actions=True)
    assert env.action_space == gym.spaces.Discrete(9)
    env.reset()
    env.step_async(np.array([5, 0]))  # 5 = 1 * 3 + 2: edge, then cloud
    *_, infos = env.step_wait()
    assert infos[0]["decision"].tolist() == [1, 2] and infos[1]["decision"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="joint_actions needs env_id='MecOffloadOneShot-v0'"):
        MecOffloadSB3VecEnv("MecOffload-v0", 2, joint_actions=True)


@pytest.mark.parametrize("reward_mode", ["absolute", "relative"])
def test_ppo_learns_on_the_native_vector_env(small_test, reward_mode):
    policy, history = train_ppo(
        timesteps=12_000, reward_mode=reward_mode, rng=np.random.default_rng(0), progress=False
    )
    assert history.seconds > 0 and policy.kind == "sequential"
    assert normalised(policy, small_test) < 0.5 * random_normalised(small_test)


def test_sb3_ppo_runs_directly_on_the_native_vector_env():
    env = MecOffloadSB3VecEnv("MecOffloadOneShot-v0", 4, reward_mode="relative")
    PPO("MlpPolicy", env, n_steps=32, batch_size=64, seed=0, device="cpu").learn(256)


@pytest.mark.parametrize("formulation", ["sequential", "joint"])
def test_dqn_learns_on_several_envs(small_test, formulation):
    steps = 8000 if formulation == "sequential" else 4000
    policy, _ = train_dqn(
        formulation,
        timesteps=steps,
        n_envs=4,
        reward_mode="relative",
        rng=np.random.default_rng(3),
        progress=False,
    )
    assert normalised(policy, small_test) < 0.5 * random_normalised(small_test)


def test_dqn_runs_sb3_directly_on_the_native_vector_env():
    env = MecOffloadSB3VecEnv("MecOffload-v0", 4)
    DQN("MlpPolicy", env, learning_starts=50, seed=0, device="cpu").learn(400)
    with pytest.raises(ValueError, match="n_envs must be an integer >= 1"):
        train_dqn(n_envs=0, timesteps=10, rng=np.random.default_rng())


@pytest.mark.parametrize("contention", [False, True])
def test_sb3s_checker_and_make_vec_env_take_the_dag_env(contention):
    from stable_baselines3.common.env_checker import check_env

    check_env(gym.make("MecOffloadDag-v0", n_subtasks=6, contention=contention).unwrapped)
    env = make_vec_env(
        "MecOffloadDag-v0", n_envs=2, seed=0, env_kwargs={"n_subtasks": 6, "contention": contention}
    )
    assert env.reset().shape == (2, 6**2 + 10 * 6 + 20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = env.render(mode="rgb_array")
    assert image.dtype == np.uint8
