"""The Gymnasium contract (gym_mecoffload.testing) over every registered id, and proof that
each check fails on an env that breaks it."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import gym_mecoffload
from gym_mecoffload import MecOffloadOneShotVectorEnv, MecOffloadVectorEnv
from gym_mecoffload.testing import (
    AUTORESET_MODES,
    assert_same,
    check_all,
    check_env_contract,
    check_pickle_mid_episode,
    check_seeded_determinism,
    check_vector_matches_single,
)

# A few cheap variants per id; an id missing here (a new family) runs with its defaults.
FLUCTUATING = {"channel": "markov", "outage_probability": 0.2}
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "MecOffload-v0": [{}, FLUCTUATING],
    "MecOffloadOneShot-v0": [{}, FLUCTUATING],
    # Small graphs keep the MILP labels fast; the expert's info keys and relative rewards,
    # with and without contention.
    "MecOffloadDag-v0": [
        {"n_subtasks": 8, "contention": True},
        {"n_subtasks": 8, "optimum": "milp"},
        {"n_subtasks": 8, "contention": True, "optimum": "milp"},
        {"n_subtasks": 6, "optimum": "milp", "reward_mode": "relative"},
        {"n_subtasks": 6, "contention": True, "optimum": "milp", "reward_mode": "relative"},
    ],
    "MecOffloadMulti-v0": [
        {},
        {"scenario": "tiny"},
        {"users": 3, "servers": 2, "horizon": 7, "reward_mode": "relative", "buffer": 1},
        {"objective": "aoi", "arrivals": "mmpp", "channel": "markov", "outage_probability": 0.3},
    ],
}
# Steps per rollout: several episodes, and for the chain ids several of the task blocks
# drawn after a seeded reset (1, 2, 4, 8, ... tasks).
STEPS = {"MecOffload-v0": 120, "MecOffloadOneShot-v0": 120}
CASES = [
    pytest.param(
        env_id,
        kwargs,
        id=f"{env_id}[{','.join(f'{k}={v}' for k, v in kwargs.items())}]",
    )
    for env_id in gym_mecoffload.ENV_IDS
    for kwargs in VARIANTS.get(env_id, [{}])
]


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_gymnasiums_checker_passes_without_warnings(env_id, kwargs):
    check_env_contract(env_id, **kwargs)


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_a_seed_fixes_every_episode(env_id, kwargs):
    check_seeded_determinism(env_id, seed=7, n_steps=STEPS.get(env_id, 60), **kwargs)


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_a_clone_pickled_mid_episode_continues_alike(env_id, kwargs):
    check_pickle_mid_episode(env_id, seed=5, n_steps=STEPS.get(env_id, 40), **kwargs)


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_the_native_vector_env_replays_single_envs(env_id, kwargs):
    check_vector_matches_single(env_id, num_envs=3, seed=11, n_steps=40, **kwargs)


# --- the checks fail on envs that break them -------------------------------------------


class TinyEnv(gym.Env):
    """A correct env: two-step episodes, observations from its seeded ``np_random``."""

    observation_space = spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.t = 0
        return self.observe(), {}

    def observe(self) -> np.ndarray:
        return self.np_random.random(3, dtype=np.float32)

    def step(self, action):
        self.t += 1
        terminated = self.t == 2
        info = {"t": self.t, "trace": np.full(2, self.t, dtype=np.int64)} if terminated else {}
        return self.observe(), float(action), terminated, False, info


class OutOfSpaceEnv(TinyEnv):
    """Observations outside the observation space: gymnasium's checker refuses them."""

    def observe(self) -> np.ndarray:
        return super().observe() - 2.0


class ArrayRewardEnv(TinyEnv):
    """Rewards as 0-d arrays: gymnasium's checker warns."""

    def step(self, action):
        observation, reward, terminated, truncated, info = super().step(action)
        return observation, np.array(reward), terminated, truncated, info


class NumpyBoolEnv(TinyEnv):
    """``terminated`` as ``np.bool_``: gymnasium accepts it, the contract does not."""

    def step(self, action):
        observation, reward, terminated, truncated, info = super().step(action)
        return observation, reward, np.bool_(terminated), truncated, info


class UnseededEnv(TinyEnv):
    """Observations from a generator the seed never reaches."""

    def observe(self) -> np.ndarray:
        return np.random.default_rng().random(3, dtype=np.float32)


class UnseededInfoEnv(TinyEnv):
    """A final info array from a generator the seed never reaches."""

    def step(self, action):
        observation, reward, terminated, truncated, info = super().step(action)
        if terminated:
            info["trace"] = np.random.default_rng().random(2)
        return observation, reward, terminated, truncated, info


class MemoryEnv(TinyEnv):
    """Each episode shifts the observations, and reseeding does not forget the episodes."""

    def __init__(self) -> None:
        super().__init__()
        self.episodes = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.episodes += 1
        return super().reset(seed=seed, options=options)

    def observe(self) -> np.ndarray:
        return super().observe() * np.float32(1.0 / self.episodes)


class UnpicklableStreamEnv(TinyEnv):
    """Its generator is made afresh, unseeded, on unpickling."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._np_random = np.random.default_rng()


BROKEN = {
    "Contract/OutOfSpace-v0": OutOfSpaceEnv,
    "Contract/ArrayReward-v0": ArrayRewardEnv,
    "Contract/NumpyBool-v0": NumpyBoolEnv,
    "Contract/Unseeded-v0": UnseededEnv,
    "Contract/UnseededInfo-v0": UnseededInfoEnv,
    "Contract/Memory-v0": MemoryEnv,
    "Contract/UnpicklableStream-v0": UnpicklableStreamEnv,
    "Contract/Tiny-v0": TinyEnv,
}


@pytest.fixture(scope="module", autouse=True)
def broken_ids():
    for env_id, env_class in BROKEN.items():
        gym.register(id=env_id, entry_point=env_class)
    yield
    for env_id in BROKEN:
        del gym.registry[env_id]


def test_the_correct_tiny_env_passes_every_check():
    # So each failure below comes from its env's one defect, not the checks' strictness.
    check_all("Contract/Tiny-v0", n_steps=10)


@pytest.mark.parametrize(
    ("env_id", "message"),
    [
        ("Contract/OutOfSpace-v0", r"check_env: The first element .* not within the observation"),
        ("Contract/ArrayReward-v0", r"check_env \(UserWarning\): .* must be a float"),
    ],
)
def test_the_checker_fails_on_a_broken_env(env_id, message):
    with pytest.raises(AssertionError, match=message):
        check_env_contract(env_id)


@pytest.mark.parametrize(
    ("env_id", "message"),
    [
        ("Contract/NumpyBool-v0", r"step 0: terminated must be a Python bool; got numpy\.bool"),
        (
            "Contract/Unseeded-v0",
            r"two envs: reset\(seed\): observation: 3 of 3 entries differ, the first at \[0\]",
        ),
        ("Contract/UnseededInfo-v0", r"two envs: step 1: info\['trace'\]: .* differ"),
        ("Contract/Memory-v0", r"reseeded: reset\(seed\): observation: 3 of 3 entries differ"),
    ],
)
def test_seeded_determinism_fails_on_a_broken_env(env_id, message):
    with pytest.raises(AssertionError, match=message):
        check_seeded_determinism(env_id, n_steps=6)


def test_pickling_fails_on_a_stream_lost_in_the_pickle():
    with pytest.raises(
        AssertionError, match=r"pickled clone: step 1: observation: 3 of 3 entries differ"
    ):
        check_pickle_mid_episode("Contract/UnpicklableStream-v0", n_steps=6)


def test_check_all_fails_on_a_broken_env():
    with pytest.raises(AssertionError, match=r"terminated must be a Python bool"):
        check_all("Contract/NumpyBool-v0", n_steps=6)


class NudgedRewards(MecOffloadOneShotVectorEnv):
    """The last sub-env's rewards one float64 step lower than the single env's."""

    def step(self, actions):
        observations, rewards, *rest = super().step(actions)
        rewards[-1] = np.nextafter(rewards[-1], -np.inf)
        return observations, rewards, *rest


class LostFinalKey(MecOffloadVectorEnv):
    """The final infos lack ``cost``, wherever the autoreset mode puts them."""

    def step(self, actions):
        observations, rewards, terminated, truncated, info = super().step(actions)
        for holder in (info, info.get("final_info")):
            if isinstance(holder, dict):
                holder.pop("cost", None)
                holder.pop("_cost", None)
            elif holder is not None:  # gymnasium 0.29's same-step final infos, one dict each
                for final in holder:
                    final.pop("cost", None)
        return observations, rewards, terminated, truncated, info


class SameStepLostFinalKey(LostFinalKey):
    """As ``LostFinalKey``, in same-step mode only (no ``autoreset_mode`` argument)."""

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, autoreset_mode="same_step", **kwargs)


class DoubledFinalObservations(MecOffloadVectorEnv):
    """Same-step mode only; the finished episodes' last observations doubled."""

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, autoreset_mode="same_step", **kwargs)

    def step(self, actions):
        observations, rewards, terminated, truncated, info = super().step(actions)
        for key in ("final_obs", "final_observation"):  # gymnasium 1.x's name, 0.29's
            if key in info:
                doubled = np.empty(len(info[key]), dtype=object)
                doubled[:] = [observation * np.float32(2.0) for observation in info[key]]
                info[key] = doubled
        return observations, rewards, terminated, truncated, info


class ScaledResetObservations(MecOffloadVectorEnv):
    """Its resets show every sub-env's observation doubled."""

    def reset(self, *, seed=None, options=None):
        observations, info = super().reset(seed=seed, options=options)
        return observations * np.float32(2.0), info


@pytest.mark.parametrize(
    ("env_id", "vector_class", "message"),
    [
        (
            "MecOffloadOneShot-v0",
            NudgedRewards,
            r"NudgedRewards next_step: step 0, sub-env 2: reward -?[0-9.e-]+ in the vector env",
        ),
        (
            "MecOffload-v0",
            LostFinalKey,
            r"LostFinalKey next_step: step 5, sub-env 0: final info: keys differ: "
            r"only in the first \[\], only in the second \['cost'\]",
        ),
        (
            "MecOffload-v0",
            SameStepLostFinalKey,
            r"SameStepLostFinalKey: step 5, sub-env 0: final info: keys differ: "
            r"only in the first \[\], only in the second \['cost'\]",
        ),
        (
            "MecOffload-v0",
            DoubledFinalObservations,
            r"step 5, sub-env 0: final observation: \d+ of 26 entries differ",
        ),
        (
            "MecOffload-v0",
            ScaledResetObservations,
            r"reset, sub-env 0: observation: \d+ of 26 entries differ",
        ),
    ],
)
def test_the_vector_check_fails_on_a_broken_vector_env(env_id, vector_class, message):
    with pytest.raises(AssertionError, match=message):
        check_vector_matches_single(
            env_id, n_steps=8, vector_entry_point=vector_class, n_subtasks=6
        )


def test_the_vector_check_fails_on_replay_options_that_give_the_wrong_task():
    def first_task_for_all(vector, index):
        return {"state": vector.tasks[0]}

    with pytest.raises(AssertionError, match=r"reset, sub-env 1: observation: .* differ"):
        check_vector_matches_single(
            "MecOffloadOneShot-v0", n_steps=4, replay_options=first_task_for_all
        )


@pytest.mark.parametrize("mode", AUTORESET_MODES)
def test_the_vector_check_fails_on_an_autoreset_other_than_asked(mode):
    other = {"next_step": "same_step", "same_step": "next_step"}[mode]

    class Contrary(MecOffloadOneShotVectorEnv):
        """Takes ``autoreset_mode`` and uses the other one."""

        def __init__(self, num_envs: int = 1, autoreset_mode: str | None = None, **kwargs):
            super().__init__(num_envs, autoreset_mode=other, **kwargs)
            # It declares nothing: only its behaviour can give it away.
            self.metadata = {k: v for k, v in self.metadata.items() if k != "autoreset_mode"}

    with pytest.raises(AssertionError, match=rf"a {other} autoreset, but {mode} was asked for"):
        check_vector_matches_single("MecOffloadOneShot-v0", n_steps=2, vector_entry_point=Contrary)


def test_the_vector_check_needs_replay_options_and_an_entry_point():
    class Forgetful(MecOffloadVectorEnv):
        replay_options = None  # a vector env that cannot say how to replay its sub-envs

    with pytest.raises(ValueError, match=r"no replay options for Contract/Tiny-v0"):
        check_vector_matches_single("Contract/Tiny-v0", vector_entry_point=Forgetful)
    with pytest.raises(ValueError, match=r"Contract/Tiny-v0 has no vector entry point"):
        check_vector_matches_single("Contract/Tiny-v0")


def test_assert_same_compares_exactly_and_says_where():
    same = {"a": [1.0, np.arange(3)], "b": np.float64("nan")}
    assert_same(same, {"a": [1.0, np.arange(3)], "b": np.float64("nan")})
    cases = [
        ({"x": 1.0}, {"x": np.float64(1.0)}, r"v\['x'\]: types differ: float 1.0 != float64"),
        ({"x": 1}, {"y": 1}, r"v: keys differ: only in the first \['x'\], only in the second"),
        (np.zeros(2, np.float32), np.zeros(2), r"v: float32\[2\] != float64\[2\]"),
        (np.array([0, 1, 2]), np.array([0, 1, 5]), r"v: 1 of 3 entries differ, .* \[2\]: 2 != 5"),
        ([1, 2], (1, 2), r"v: list of 2 != tuple of 2"),
    ]
    for first, second, message in cases:
        with pytest.raises(AssertionError, match=message):
            assert_same(first, second, "v")
    # A vector env's batched infos hold numpy scalars where a single env has Python ones.
    assert_same({"x": np.float64(1.0)}, {"x": 1.0}, strict_types=False)
