"""Extreme and malformed inputs of the multi-user family: refused with the field named, or
accepted and kept finite."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_mecoffload  # noqa: F401
from gym_mecoffload.multi.model import make_scenario


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"slot_seconds": 1e-310}, "slot_seconds must be in"),  # subnormal
        ({"slot_seconds": 1e31}, "slot_seconds must be in"),
        ({"cycles": (0.0, 1e31)}, "cycles must be a range"),
        ({"cycles": (float("nan"), 1e9)}, "cycles must be a range"),
        ({"input_data": (-1.0, 1.0)}, "input_data must be a range"),
        ({"edge_hz": (1e-310, 1e9)}, "edge_hz must be a range"),
        ({"users": np.uint64(2**64 - 1)}, "users must be an integer"),
        ({"users": 10_001}, "users must be an integer"),
        ({"horizon": -1}, "horizon must be an integer"),
        ({"arrival_probability": [0.5, True, 0.5]}, "arrival_probability must hold real numbers"),
        ({"arrival_probability": float("nan")}, "arrival_probability must be in"),
        ({"class_weights": ["1", "2"]}, "class_weights must hold real numbers"),
        ({"uplink_channels": 2.5}, "uplink_channels\\[0\\] must be an integer"),
        ({"buffer": True}, "buffer\\[0\\] must be an integer"),
        ({"cloud_hz": -1.0}, "cloud_hz must be inf or in"),
        ({"snr_db": float("inf")}, "snr_db must be in"),
        ({"min_bandwidth": 1e9}, "min_bandwidth must be in"),
        ({"aoi_weights": -1.0}, "aoi_weights must be in"),
        ({"markov_stay": 1.5}, "markov_stay must be a probability"),
        ({"type_probabilities": (0.5, 0.5)}, "type_probabilities needs task_types"),
    ],
)
def test_extreme_and_malformed_values_are_refused_naming_the_field(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_scenario("multi", **{"users": 3, **kwargs})


@pytest.mark.parametrize(
    "kwargs",
    [
        # The largest and smallest values accepted: everything stays finite.
        {"slot_seconds": 1e-30, "cycles": (1e29, 1e30), "device_hz": 1e-30, "edge_hz": 1e-30},
        {"slot_seconds": 1e30, "cycles": 0.0, "input_data": 0.0, "output_data": 0.0},
        {"edge_bandwidth": (1e-30, 1e-29), "min_bandwidth": 1e-30, "input_data": 1e30},
        {"outage_probability": 0.999, "channel": "rayleigh", "snr_db": -100.0},
    ],
)
def test_the_largest_and_smallest_values_accepted_keep_everything_finite(kwargs):
    env = gym.make("MecOffloadMulti-v0", users=3, servers=2, horizon=4, **kwargs)
    observation, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(4):
        assert observation.dtype == np.float32 and np.isfinite(observation).all()
        observation, reward, _, _, info = env.step(rng.integers(0, 5, size=3))
        assert np.isfinite(reward)
    assert np.isfinite(info["cost"]) and np.isfinite(info["latency_mean"])
