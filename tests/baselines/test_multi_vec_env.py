"""SB3's VecEnv over the multi-user family's users: the same episodes as the dispatcher's
env, a reward per user that sums to its reward, and SB3's algorithms run on it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import DQN, PPO

import gym_mecoffload  # noqa: F401
from baselines.multi_vec_env import MultiUserVecEnv

KW = {"users": 3, "servers": 2, "horizon": 6}


def test_users_rewards_sum_to_the_dispatchers_on_the_same_episode():
    vec = MultiUserVecEnv(1, seed=5, **KW)
    env = gym.make("MecOffloadMulti-v0", **KW)
    vec.reset()
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    for t in range(6):
        places = rng.integers(0, 5, size=3)
        vec.step_async(places)
        obs, rewards, dones, infos = vec.step_wait()
        _, reward, _, truncated, _ = env.step(places)
        assert rewards.sum() == pytest.approx(reward, rel=1e-6)
        assert dones.all() == (t == 5) == truncated
    assert "terminal_observation" in infos[0] and infos[0]["TimeLimit.truncated"]


def test_bad_actions_are_refused():
    vec = MultiUserVecEnv(2, seed=0, **KW)
    vec.reset()
    with pytest.raises(ValueError, match="6 integer places in \\[0, 4\\]"):
        vec.step_async(np.array([0, 1, 2, 3, 4, 5]))


@pytest.mark.parametrize("algorithm", [PPO, DQN])
def test_sb3_trains_one_shared_policy(algorithm):
    vec = MultiUserVecEnv(4, seed=0, **KW)
    kwargs = {"n_steps": 16, "batch_size": 48} if algorithm is PPO else {"learning_starts": 50}
    model = algorithm("MlpPolicy", vec, seed=0, **kwargs)
    model.learn(400)
    actions, _ = model.predict(vec.reset(), deterministic=True)
    assert actions.shape == (12,)
