"""Sharded generation on the local executor (the Ray executor's tests are in tests/ray)."""

import itertools
import sys

import numpy as np
import pytest

from gym_mecoffload import generate_dataset, solvers
from gym_mecoffload.chain.model import cost, sample_states
from gym_mecoffload.channels import ChannelModel, MarkovChannel
from gym_mecoffload.executors import SEQUENTIAL, Executor, _Gathered, connect_ray, run_shards


def _square(value: int) -> int:
    return value * value


def _fail_on_three(value: int) -> int:
    if value == 3:
        raise ArithmeticError("shard 3 is bad")
    return value


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_shard_order(workers):
    assert run_shards(_square, range(9), executor=Executor(workers=workers)) == [
        v * v for v in range(9)
    ]
    assert run_shards(_square, [], executor=Executor(workers=workers)) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_shard_raises_its_own_error(workers):
    with pytest.raises(ArithmeticError, match="shard 3 is bad"):
        run_shards(_fail_on_three, range(6), executor=Executor(workers=workers))


def test_every_shard_is_gathered_exactly_once():
    gathered = _Gathered(3)
    gathered.put(0, "a")
    gathered.put(2, "c")
    with pytest.raises(RuntimeError, match=r"shards \[1\] never came back"):
        gathered.results()
    with pytest.raises(RuntimeError, match="shard 2 came back twice"):
        gathered.put(2, "c")


@pytest.mark.parametrize(
    ("executor", "workers", "address", "match"),
    [
        ("dask", None, None, "executor must be one of"),
        (None, None, None, "executor must be one of"),
        ("local", 0, None, "workers must be an integer >= 1"),
        ("local", True, None, "workers must be an integer >= 1"),
        ("local", 1.5, None, "workers must be an integer >= 1"),
        ("local", None, "ray://head:10001", "address applies only to executor='ray'"),
        ("ray", None, "  ", "address must be a Ray cluster address"),
        ("ray", None, 10001, "address must be a Ray cluster address"),
    ],
)
def test_bad_executor_arguments_are_refused(executor, workers, address, match):
    with pytest.raises(ValueError, match=match):
        Executor(executor, workers, address)
    with pytest.raises(ValueError, match=match):
        generate_dataset(10, seed=0, executor=Executor(executor, workers, address))


def test_bad_retries_and_progress_are_refused():
    for retries in (-1, True, 1.0):
        with pytest.raises(ValueError, match="retries must be an integer >= 0"):
            run_shards(_square, range(2), retries=retries)
    with pytest.raises(TypeError, match="progress must be"):
        run_shards(_square, range(2), progress=True)


def test_ray_missing_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(ImportError, match=r"gym-mecoffload\[distributed\]"):
        connect_ray()


def _by_hand(n, shard_size, seed, channel, q):
    """The sharded dataset rebuilt shard by shard from its documented streams."""
    model = ChannelModel.build(channel, q, "paper")
    states, decisions, all_slots = [], [], []
    for k, start in enumerate(range(0, n, shard_size)):
        rng = np.random.default_rng([seed, k])
        tasks = sample_states(min(shard_size, n - start), scenario="paper", rng=rng)
        tasks, slots = model.realise(tasks, rng)
        on_slots = None if model.fixed else slots
        states.append(tasks)
        all_slots.append(slots)
        decisions.append(solvers.optimal(tasks, "latency", on_slots))
    return states, decisions, all_slots


@pytest.mark.parametrize(
    ("channel", "q"), [("static", 0.0), ("iid", 0.0), (MarkovChannel(stay=0.7), 0.2)]
)
def test_sharded_chain_datasets_follow_their_seeds_for_any_worker_count(channel, q):
    kwargs = dict(seed=5, shard_size=70, channel=channel, outage_probability=q)
    one = generate_dataset(300, executor=SEQUENTIAL, **kwargs)
    two = generate_dataset(300, executor=Executor(workers=2), **kwargs)
    states, decisions, slots = _by_hand(300, 70, 5, channel, q)
    for dataset in (one, two):
        assert len(dataset) == 300
        assert np.array_equal(dataset.states.cycles, np.concatenate([s.cycles for s in states]))
        assert np.array_equal(dataset.decisions, np.concatenate(decisions))
        if channel == "static":
            assert dataset.slots is None
        else:
            edge = np.concatenate([s.edge_bandwidths for s in slots])
            assert np.array_equal(dataset.slots.edge_bandwidths, edge)
        # Labels are optimal: none of the 3**6 decisions beats them (first 20 tasks).
        head = dataset.states[:20]
        on = None if dataset.slots is None else dataset.slots[:20]
        every = [
            cost(head, np.tile(d, (20, 1)), "latency", on)
            for d in itertools.product(range(3), repeat=6)
        ]
        assert np.allclose(dataset.costs[:20], np.min(every, axis=0), rtol=1e-12)


def test_rng_and_seed_are_exclusive():
    with pytest.raises(ValueError, match="exactly one of rng"):
        generate_dataset(10)
    with pytest.raises(ValueError, match="exactly one of rng"):
        generate_dataset(10, rng=np.random.default_rng(0), seed=0)
    with pytest.raises(ValueError, match="give seed, not rng"):
        generate_dataset(10, rng=np.random.default_rng(0), executor=Executor(workers=2))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        generate_dataset(10, rng=0)
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match="seed must be an integer >= 0"):
            generate_dataset(10, seed=bad)
    with pytest.raises(ValueError, match="shard_size must be an integer >= 1"):
        generate_dataset(10, seed=0, shard_size=0)


def test_a_function_that_cannot_reach_the_workers_is_refused_before_any_work():
    with pytest.raises(TypeError, match="function must be callable"):
        run_shards(3, range(4))
    with pytest.raises(TypeError, match="function must be picklable .* not a lambda"):
        run_shards(lambda shard: shard, range(4), executor=Executor(workers=2))
    # In this process nothing is pickled, so a lambda is fine there.
    assert run_shards(lambda shard: shard + 1, range(3), executor=SEQUENTIAL) == [1, 2, 3]
