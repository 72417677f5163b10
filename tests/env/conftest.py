"""Shared fixtures for the environment tests; hand-made tasks are in env_cases.py."""

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
