"""The policy interface, the numpy path and saving/loading."""

import numpy as np
import pytest
import torch
from torch import nn

from baselines.policies import (
    NetworkPolicy,
    SolverPolicy,
    Standardize,
    load_policy,
    mlp,
    observation_size,
    output_size,
)
from gym_mecoffload import sample_states, solvers


def random_policy(kind, n=6, seed=0):
    torch.manual_seed(seed)
    x = np.random.default_rng(seed).random((100, observation_size(kind, n))).astype(np.float32)
    net = nn.Sequential(
        Standardize.fit(x), *mlp(observation_size(kind, n), (16, 8), output_size(kind, n))
    )
    return NetworkPolicy(f"random_{kind}", net, kind, n)


@pytest.fixture(scope="module")
def tasks():
    return sample_states(300, rng=np.random.default_rng(0))


@pytest.mark.parametrize("kind", ["multilabel", "joint", "sequential"])
def test_numpy_and_torch_decide_alike(kind, tasks):
    policy = random_policy(kind)
    decisions = policy.decide(tasks)
    assert decisions.shape == (300, 6) and set(np.unique(decisions)) <= {0, 1, 2}
    assert np.array_equal(policy.with_backend("numpy").decide(tasks), decisions)
    assert np.array_equal(policy.decide_one(tasks[7]), decisions[7])


@pytest.mark.parametrize("kind", ["multilabel", "joint", "sequential"])
def test_save_load_round_trip(kind, tasks, tmp_path):
    policy = random_policy(kind, seed=3)
    path = policy.save(tmp_path / "policy.pt")
    loaded = load_policy(path)
    assert loaded.name == policy.name and loaded.kind == kind
    assert np.array_equal(loaded.decide(tasks), policy.decide(tasks))
    assert loaded.n_parameters == policy.n_parameters
    assert [p.name for p in tmp_path.iterdir()] == ["policy.pt"]


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        load_policy(tmp_path / "absent.pt")
    path = random_policy("multilabel").save(tmp_path / "policy.pt")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"not a readable policy file \(not a zip archive\)"):
        load_policy(path)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a gym_mecoffload policy"):
        load_policy(tmp_path / "foreign.pt")


def test_mismatched_file_is_refused(tmp_path):
    path = random_policy("multilabel").save(tmp_path / "policy.pt")
    payload = torch.load(path, weights_only=True)
    payload["kind"] = "joint"  # 18 outputs cannot be 729 joint scores
    torch.save(payload, path)
    with pytest.raises(
        ValueError, match=r"the layers end with 18 outputs; a joint policy for 6 subtasks needs 729"
    ):
        load_policy(path)


def test_loading_runs_no_pickled_code(tmp_path):
    class Trap:
        def __reduce__(self):
            return (print, ("pickled code ran",))

    torch.save({"format": "gym_mecoffload.NetworkPolicy/1", "trap": Trap()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="not a readable policy file"):
        load_policy(tmp_path / "evil.pt")


def test_solver_policy_and_errors(tasks):
    assert np.array_equal(SolverPolicy("greedy").decide(tasks), solvers.greedy(tasks))
    with pytest.raises(ValueError, match=r"unknown solver 'fast'; solvers are \["):
        SolverPolicy("fast")
    with pytest.raises(ValueError, match="decide_one takes a batch of one task; got 2"):
        SolverPolicy("local").decide_one(tasks[:2])
    with pytest.raises(ValueError, match="decides tasks of 6 subtasks; got 3"):
        random_policy("multilabel").decide(
            sample_states(2, n_subtasks=3, rng=np.random.default_rng())
        )


def test_parameter_counts_are_the_real_ones():
    """The paper's 1.6M and ~10K do not match its layer sizes; we report the real ones."""
    teacher = nn.Sequential(*mlp(17, (256,) * 5, 18))
    student = nn.Sequential(*mlp(17, (32, 32), 18))
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(teacher) == 17 * 256 + 256 + 4 * (256 * 256 + 256) + 256 * 18 + 18 == 272_402
    assert count(student) == 17 * 32 + 32 + 32 * 32 + 32 + 32 * 18 + 18 == 2_226


@pytest.mark.parametrize("name", sorted(solvers.SOLVERS))
def test_solver_decide_one_takes_the_single_task_path_with_the_same_decisions(name):
    tasks = sample_states(40, rng=np.random.default_rng(5))
    policy = SolverPolicy(name)
    assert policy._solve_one is solvers.SINGLE_TASK_SOLVERS[name]
    batch = policy.decide(tasks)
    for i in range(len(tasks)):
        one = policy.decide_one(tasks[i])
        assert one.shape == (6,) and np.array_equal(one, batch[i])
        assert np.array_equal(policy.with_single_task_path(False).decide_one(tasks[i]), batch[i])
