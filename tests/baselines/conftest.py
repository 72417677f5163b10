"""Small shared data for the training tests."""

import numpy as np
import pytest

from gym_mecoffload import generate_dataset, solvers
from gym_mecoffload.metrics import evaluate_decisions


@pytest.fixture(scope="session")
def small_train():
    return generate_dataset(3000, rng=np.random.default_rng(10))


@pytest.fixture(scope="session")
def small_test():
    return generate_dataset(1000, rng=np.random.default_rng(11))


def normalised(policy, test) -> float:
    return evaluate_decisions(test.states, policy.decide(test.states), test.decisions)["mean_ratio"]


def random_normalised(test) -> float:
    decisions = solvers.random(test.states, np.random.default_rng(0))
    return evaluate_decisions(test.states, decisions, test.decisions)["mean_ratio"]
