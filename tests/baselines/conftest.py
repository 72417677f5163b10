"""Small shared data for the training tests."""

import numpy as np
import pytest

from gym_mecoffload import generate_dataset


@pytest.fixture(scope="session")
def small_train():
    return generate_dataset(3000, rng=np.random.default_rng(10))


@pytest.fixture(scope="session")
def small_test():
    return generate_dataset(1000, rng=np.random.default_rng(11))
