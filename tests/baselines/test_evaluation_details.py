"""Evaluation and learned-policy details, each against an independent computation."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from baselines import evaluation
from baselines.evaluation import evaluate, measure_delay
from baselines.policies import NetworkPolicy, Policy, SolverPolicy, mlp, observation_size
from gym_mecoffload import generate_dataset, latency, solvers


@pytest.fixture(scope="module")
def test_set():
    return generate_dataset(200, rng=np.random.default_rng(4))


def test_evaluate_scores_the_policy_against_the_optimum(test_set):
    local = solvers.local(test_set.states)
    ratios = latency(test_set.states, local) / latency(test_set.states, test_set.decisions)
    figures = evaluate(SolverPolicy("local"), test_set)
    assert figures["mean_ratio"] == pytest.approx(ratios.mean(), rel=1e-12)
    assert figures["mean_ratio"] > 1.0  # a policy never beats the optimum
    assert figures["label_accuracy"] == pytest.approx((local == test_set.decisions).mean())


def test_a_sequential_policy_decides_as_it_would_act_in_the_env(test_set):
    torch.manual_seed(3)
    net = nn.Sequential(*mlp(observation_size("sequential", 6), (16,), 3))
    policy = NetworkPolicy("seq", net, "sequential", 6, backend="numpy")
    decisions = policy.decide(test_set.states[:30])
    env = gym.make("MecOffload-v0")
    for i in range(30):
        observation, _ = env.reset(options={"state": test_set.states[i]})
        places = []
        for _ in range(6):  # the env starts every task with the device as the previous place
            place = int(policy.scores(observation[None]).argmax())
            observation, *_ = env.step(place)
            places.append(place)
        assert decisions[i].tolist() == places


class _CountingPolicy(Policy):
    """Takes exactly 1000 ns of a fake clock per task it decides."""

    name = "counting"

    def __init__(self, clock):
        self.clock = clock

    def decide(self, batch):
        self.clock[0] += 1000 * len(batch)
        return solvers.local(batch)


def test_batched_delay_is_per_task(test_set, monkeypatch):
    clock = [0]
    monkeypatch.setattr(evaluation.time, "perf_counter_ns", lambda: clock[0])
    timed = {"greedy": _CountingPolicy(clock), "other": _CountingPolicy(clock)}
    delays = measure_delay(timed, test_set, online_tasks=10, repeats=2, progress=False)
    for figures in delays.values():
        assert figures["batched_us"] == pytest.approx(1.0)  # 1000 ns per task, whatever N
        assert figures["online_us"] == pytest.approx(1.0)
        assert figures["batched_ratio"] == pytest.approx(1.0)
