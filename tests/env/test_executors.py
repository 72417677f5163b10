"""Sharded generation on the local executor (the Ray executor's tests are in tests/ray)."""

import itertools
import pickle
import re
import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gym_mecoffload import generate_dataset, solvers
from gym_mecoffload.chain import data as chain_data
from gym_mecoffload.chain.model import cost, sample_states
from gym_mecoffload.channels import ChannelModel, MarkovChannel
from gym_mecoffload.dag import data as dag_data
from gym_mecoffload.dag.data import generate_dag_dataset
from gym_mecoffload.executors import (
    SEQUENTIAL,
    Executor,
    ShardsFailed,
    _Gathered,
    connect_ray,
    run_shards,
)


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
def test_a_failing_shard_is_named_and_the_others_still_finish(workers):
    with pytest.raises(
        ShardsFailed, match=r"shard 3 \(3\): ArithmeticError: shard 3 is bad"
    ) as caught:
        run_shards(_fail_on_three, range(6), executor=Executor(workers=workers))
    failed = caught.value
    assert "1 of 6 shards failed" in str(failed)
    assert list(failed.failures) == [3]
    assert isinstance(failed.failures[3], ArithmeticError)
    assert failed.__cause__ is failed.failures[3]  # the traceback shows the shard's own error
    # Every other shard ran: its result is the one a run without the failure gives.
    assert failed.results == [0, 1, 2, None, 4, 5]
    assert failed.finished == [0, 1, 2, 4, 5]
    assert failed.shards == list(range(6))


def test_every_shard_is_gathered_exactly_once():
    gathered = _Gathered(range(3))
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


# A shard failing does not lose the others' work (issue "no bad input gets through").


def _fail_where_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"negative shard {value}")
    return value * 10


@pytest.mark.parametrize("workers", [1, 2])
def test_every_failed_shard_is_named_and_the_first_is_the_cause(workers):
    shards = [0, -1, 2, 3, -4, 5]
    with pytest.raises(ShardsFailed) as caught:
        run_shards(_fail_where_negative, shards, executor=Executor(workers=workers))
    failed = caught.value
    assert sorted(failed.failures) == [1, 4]
    message = str(failed)
    assert "2 of 6 shards failed" in message
    assert "shard 1 (-1): ValueError: negative shard -1" in message
    assert "shard 4 (-4): ValueError: negative shard -4" in message
    assert failed.__cause__ is failed.failures[1]  # the lowest index, whichever ended first
    assert failed.results == [0, None, 20, 30, None, 50]


def test_shards_are_named_by_describe_and_long_ones_are_cut():
    with pytest.raises(ShardsFailed, match=r"shard 1 \(rng \[7, 1\]\): ValueError") as caught:
        run_shards(_fail_where_negative, [0, -1], describe=lambda s: f"rng [7, {-s}]")
    assert caught.value.names == {1: "rng [7, 1]"}
    # Without describe, a shard's repr, cut short; past 10 failures, a count.
    with pytest.raises(ShardsFailed) as caught:
        run_shards(_fail_where_negative, [-(10**80) - i for i in range(12)], executor=SEQUENTIAL)
    message = str(caught.value)
    assert "12 of 12 shards failed; the other 0 finished" in message
    assert "and 2 more (all in .failures)" in message
    assert all(len(line) < 300 for line in message.splitlines())
    assert len(caught.value.failures) == 12


def test_a_shard_that_cannot_reach_its_worker_fails_alone():
    # A lambda in a shard cannot be pickled: that shard fails, the others run.
    shards = [1, 2, lambda: 3, 4]
    with pytest.raises(ShardsFailed, match=r"shard 2 \(<function") as caught:
        run_shards(_square_if_int, shards, executor=Executor(workers=2))
    assert caught.value.results == [1, 4, None, 16]


def _square_if_int(value: int) -> int:
    return value * value


def test_shards_failed_crosses_processes_intact():
    with pytest.raises(ShardsFailed) as caught:
        run_shards(_fail_on_three, range(5), executor=SEQUENTIAL)
    copy = pickle.loads(pickle.dumps(caught.value.with_partial([0, 1], "two")))
    assert str(copy) == str(caught.value.with_partial([0, 1], "two"))
    assert copy.results == [0, 1, 2, None, 4]
    assert type(copy.failures[3]) is ArithmeticError
    assert (copy.partial, copy.partial_note) == ([0, 1], "two")
    assert "two are in .partial" in str(copy)
    with pytest.raises(ValueError, match="at least one failed shard"):
        ShardsFailed({}, [1], [1])


def _interrupt_on(shard: tuple[int, int, str]) -> int:
    """Shard ``index`` of ``(index, interrupted, marks)`` marks that it ran; the one
    numbered ``interrupted`` raises KeyboardInterrupt, the others take a while."""
    index, interrupted, marks = shard
    (Path(marks) / str(index)).touch()
    if index == interrupted:
        raise KeyboardInterrupt(f"stop at {index}")
    time.sleep(0.5 if index else 0.0)
    return index


def test_keyboard_interrupt_stops_at_once_in_this_process(tmp_path):
    shards = [(i, 2, str(tmp_path)) for i in range(6)]
    with pytest.raises(KeyboardInterrupt, match="stop at 2") as caught:
        run_shards(_interrupt_on, shards, executor=SEQUENTIAL)
    assert type(caught.value) is KeyboardInterrupt  # unchanged, not a ShardsFailed
    assert sorted(int(p.name) for p in tmp_path.iterdir()) == [0, 1, 2]  # none after it


def test_keyboard_interrupt_stops_at_once_on_processes(tmp_path):
    shards = [(i, 0, str(tmp_path)) for i in range(20)]  # all of them: about 5 s on 2
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt, match="stop at 0") as caught:
        run_shards(_interrupt_on, shards, executor=Executor(workers=2))
    elapsed = time.monotonic() - started
    assert type(caught.value) is KeyboardInterrupt
    assert elapsed < 2.5, f"returned after {elapsed:.1f} s, not at once"
    time.sleep(1.5)  # let the shards already handed to a worker end
    ran = len(list(tmp_path.iterdir()))
    assert ran < 12, f"{ran} of 20 shards ran: the queued ones were not cancelled"


_LABEL_DAGS = dag_data._label_shard  # the real labeller, kept before the tests patch it
_LABEL_TASKS = chain_data._label_shard


def _dags_but_shard_1(shard):
    if shard.index == 1:
        raise ArithmeticError("the MILP gave up")
    return _LABEL_DAGS(shard)


def _tasks_but_shard_1(shard):
    if shard.index == 1:
        raise ArithmeticError("the DP gave up")
    return _LABEL_TASKS(shard)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failed_dag_shard_keeps_the_others_labels(monkeypatch, workers):
    kwargs = dict(n_subtasks=5, seed=3, shard_size=4, progress=False)
    whole = generate_dag_dataset(14, executor=SEQUENTIAL, **kwargs)
    monkeypatch.setattr(dag_data, "_label_shard", _dags_but_shard_1)
    with pytest.raises(ShardsFailed) as caught:
        generate_dag_dataset(14, executor=Executor(workers=workers), **kwargs)
    failed = caught.value
    message = str(failed)
    assert "1 of 4 shards failed" in message
    assert "shard 1 (tasks 4..7, rng [3, 1]): ArithmeticError: the MILP gave up" in message
    assert "the 10 tasks of those shards are in .partial" in message
    assert isinstance(failed.__cause__, ArithmeticError)
    kept = np.r_[0:4, 8:14]  # shards 0, 2 and 3, as the whole run labelled them
    for name in ("decisions", "costs", "lower_bound", "exact"):
        assert np.array_equal(getattr(failed.partial, name), getattr(whole, name)[kept]), name
    assert np.array_equal(failed.partial.dags.cycles, whole.dags.cycles[kept])
    assert [len(part) if part is not None else None for part in failed.results] == [4, None, 4, 2]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failed_chain_shard_keeps_the_others_labels(monkeypatch, workers):
    kwargs = dict(seed=5, shard_size=30, channel="iid")
    whole = generate_dataset(100, executor=SEQUENTIAL, **kwargs)
    monkeypatch.setattr(chain_data, "_label_shard", _tasks_but_shard_1)
    with pytest.raises(ShardsFailed) as caught:
        generate_dataset(100, executor=Executor(workers=workers), **kwargs)
    failed = caught.value
    assert "shard 1 (tasks 30..59, rng [5, 1]): ArithmeticError: the DP gave up" in str(failed)
    assert "the 70 tasks of those shards are in .partial" in str(failed)
    kept = np.r_[0:30, 60:100]
    assert np.array_equal(failed.partial.states.cycles, whole.states.cycles[kept])
    assert np.array_equal(failed.partial.decisions, whole.decisions[kept])
    assert np.array_equal(failed.partial.costs, whole.costs[kept])
    assert np.array_equal(failed.partial.slots.edge_bandwidths, whole.slots.edge_bandwidths[kept])


def _never_labels(shard):
    raise MemoryError(f"no room for {shard.size} tasks")


def test_when_no_shard_finishes_there_is_no_partial(monkeypatch):
    monkeypatch.setattr(dag_data, "_label_shard", _never_labels)
    with pytest.raises(ShardsFailed, match="2 of 2 shards failed") as caught:
        generate_dag_dataset(6, n_subtasks=4, seed=0, shard_size=3, executor=SEQUENTIAL)
    assert caught.value.partial is None
    assert ".partial" not in str(caught.value)
    assert "shard 1 (tasks 3..5, rng [0, 1]): MemoryError: no room for 3 tasks" in str(caught.value)


# Ray addresses: malformed ones refused at once, unreachable ones within timeout_s.


class _FakeRay:
    """Stands in for the ray module: records ray.init's arguments, starts nothing."""

    def __init__(self, initialised: bool = False) -> None:
        self.initialised = initialised
        self.calls: list[dict] = []

    def is_initialized(self) -> bool:
        return self.initialised

    def init(self, **options) -> None:
        self.calls.append(options)


@pytest.fixture
def fake_ray(monkeypatch, tmp_path):
    """A fake ``ray`` (no Ray instance needed), no RAY_ADDRESS, Ray's temp dir empty."""
    fake = _FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    return fake


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("", "empty"),
        ("nohost", "no port"),
        ("head:port", "not HOST:PORT"),
        ("host:6379:extra", "more than one ':'"),
        ("::1:6379", "IPv6 host goes in brackets"),
        ("[::1:6379", "not HOST:PORT"),
        ("head:0", "port 0 is outside 1..65535"),
        ("head:65536", "port 65536 is outside 1..65535"),
        (":6379", "not HOST:PORT"),
        ("head :6379", "not HOST:PORT"),
        ("ray://", "empty"),
        ("ray://head", "no port"),
        ("http://head:8265", "http:// is the dashboard's"),
        (6379, "of type int, not a str"),
    ],
)
def test_a_malformed_ray_address_is_refused_before_any_work(fake_ray, address, why):
    match = rf"address must be a Ray cluster address: HOST:PORT .*; got .*\(.*{re.escape(why)}"
    with pytest.raises(ValueError, match=match):
        connect_ray(address)
    with pytest.raises(ValueError, match=match):
        Executor("ray", address=address)
    assert fake_ray.calls == []


@pytest.mark.parametrize(
    "address",
    [
        "auto",
        "local",
        "127.0.0.1:6379",
        "head-0.cluster.local:6379",
        "[::1]:6379",
        "ray://head:10001",
    ],
)
def test_well_formed_ray_addresses_are_taken(address):
    assert Executor("ray", address=address).address == address


def test_an_address_where_nothing_listens_fails_at_once(fake_ray):
    for address in (f"127.0.0.1:{_closed_port()}", "127.0.0.1:1"):
        started = time.monotonic()
        with pytest.raises(ConnectionError) as caught:
            connect_ray(address)
        assert time.monotonic() - started < 1.0
        message = str(caught.value)
        assert f"no Ray cluster answers at {address!r}, from the address given" in message
        assert "ray start --head" in message and "RAY_ADDRESS" in message
    assert fake_ray.calls == []  # Ray never got the address: it would retry for minutes


def test_an_address_that_does_not_answer_fails_within_timeout(fake_ray):
    # A listener whose accept queue is full: the system drops new connections unanswered,
    # as a host that is down or firewalled does (routing to a real black hole such as
    # 10.255.255.1 differs between networks; some proxies even accept it).
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        address = f"127.0.0.1:{server.getsockname()[1]}"
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                fillers.append(filler)
                filler.settimeout(0.2)
                try:
                    filler.connect(server.getsockname())
                except TimeoutError:
                    break  # full: connections now hang
            else:
                pytest.skip("this system answers connections to a full accept queue")
            started = time.monotonic()
            with pytest.raises(ConnectionError) as caught:
                connect_ray(address, timeout_s=0.5)
            elapsed = time.monotonic() - started
        finally:
            for filler in fillers:
                filler.close()
    assert 0.4 < elapsed < 1.5
    assert f"at {address!r}, from the address given (127.0.0.1 does not answer" in str(caught.value)
    assert "timeout_s=0.5; gave up after 0.5 s" in str(caught.value)
    with pytest.raises(ConnectionError, match="cannot resolve 'no-such-host.invalid'"):
        connect_ray("ray://no-such-host.invalid:10001", timeout_s=0.5)
    assert fake_ray.calls == []


def test_when_ray_finds_no_cluster_behind_the_port_the_error_says_where(fake_ray):
    def refuse(**options):
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.9:6379\nmore")

    fake_ray.init = refuse
    with socket.create_server(("127.0.0.1", 0)) as server:  # passes the probe
        address = f"127.0.0.1:{server.getsockname()[1]}"
        with pytest.raises(ConnectionError) as caught:
            connect_ray(address)
    assert str(caught.value).startswith(
        f"no Ray cluster answers at {address!r}, from the address given "
        "(Ray: Failed to connect to Ray cluster at 10.0.0.9:6379; gave up after"
    )
    assert isinstance(caught.value.__cause__, ConnectionError)


def test_a_listening_address_is_passed_to_ray(fake_ray, monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = f"127.0.0.1:{server.getsockname()[1]}"
        connect_ray(address, workers=3)  # a cluster has its own CPUs: workers not passed
        monkeypatch.setenv("RAY_ADDRESS", f"ray://{address}")
        connect_ray()
    assert fake_ray.calls == [
        {"address": address, "include_dashboard": False},
        {"address": f"ray://{address}", "include_dashboard": False},
    ]
    connect_ray(timeout_s=None, address=f"127.0.0.1:{_closed_port()}")  # None: no probe
    assert len(fake_ray.calls) == 3


def test_without_an_address_ray_starts_locally(fake_ray, monkeypatch):
    connect_ray(workers=3)
    connect_ray("local", workers=2)
    monkeypatch.setenv("RAY_ADDRESS", "local")
    connect_ray(workers=1)
    assert [call["num_cpus"] for call in fake_ray.calls] == [3, 2, 1]
    assert {call["address"] for call in fake_ray.calls} == {"local"}


def test_ray_address_from_the_environment_is_checked_and_named(fake_ray, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "head")
    with pytest.raises(ValueError, match=r"RAY_ADDRESS must be a Ray cluster address.*'head'"):
        connect_ray()
    closed = f"127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("RAY_ADDRESS", closed)
    with pytest.raises(ConnectionError, match=rf"at '{closed}', from RAY_ADDRESS \("):
        connect_ray()
    with pytest.raises(ConnectionError, match=r"from RAY_ADDRESS \(for 'auto'\)"):
        connect_ray("auto")
    assert fake_ray.calls == []


def test_auto_follows_ray_and_a_stale_cluster_file_fails_fast(fake_ray, tmp_path):
    connect_ray("auto")  # no RAY_ADDRESS, no cluster started here: Ray looks for one itself
    assert fake_ray.calls == [{"address": "auto", "include_dashboard": False}]
    recorded = tmp_path / "ray" / "ray_current_cluster"
    recorded.parent.mkdir()
    recorded.write_text(f"127.0.0.1:{_closed_port()}\n")  # a `ray start` cluster now gone
    with pytest.raises(ConnectionError, match=r"ray_current_cluster \(for 'auto'.*stale"):
        connect_ray("auto")
    recorded.write_text("garbage")
    with pytest.raises(ValueError, match=r"ray_current_cluster .*must be a Ray cluster address"):
        connect_ray("auto")
    assert len(fake_ray.calls) == 1


def test_a_ray_already_running_is_kept_and_timeout_is_checked(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", _FakeRay(initialised=True))
    assert connect_ray(f"127.0.0.1:{_closed_port()}").calls == []  # not even probed
    for bad in (0, -1.0, float("nan"), float("inf"), True, "5"):
        with pytest.raises(ValueError, match="timeout_s must be a finite number"):
            connect_ray(timeout_s=bad)
