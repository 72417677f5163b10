"""Scores for the training tests, importable by any test module (see tests/env/env_cases.py)."""

import numpy as np

from gym_mecoffload import solvers
from gym_mecoffload.metrics import evaluate_decisions


def normalised(policy, test) -> float:
    return evaluate_decisions(test.states, policy.decide(test.states), test.decisions)["mean_ratio"]


def random_normalised(test) -> float:
    decisions = solvers.random(test.states, np.random.default_rng(0))
    return evaluate_decisions(test.states, decisions, test.decisions)["mean_ratio"]
