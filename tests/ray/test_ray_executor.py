"""The Ray executor: the same datasets as the local one, and no shard lost or counted twice
when workers die."""

import _thread
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gym_mecoffload import generate_dataset
from gym_mecoffload.channels import MarkovChannel
from gym_mecoffload.dag import data as dag_data
from gym_mecoffload.dag.data import DagDataset, generate_dag_dataset
from gym_mecoffload.executors import SEQUENTIAL, Executor, ShardsFailed, run_shards

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray
# Ray workers cannot import this test module by name: ship its functions by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _same_dags(a: DagDataset, b: DagDataset) -> None:
    for name in ("decisions", "costs", "lower_bound", "exact"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in ("cycles", "edge_data", "edge_hz"):
        assert np.array_equal(getattr(a.dags, name), getattr(b.dags, name)), name


@pytest.mark.parametrize("workers", [None, 1, 2])
def test_dag_datasets_are_the_same_on_ray_and_locally(ray_cluster, workers):
    kwargs = dict(n_subtasks=7, seed=11, shard_size=6, progress=False)
    local = generate_dag_dataset(40, executor=SEQUENTIAL, **kwargs)
    on_ray = generate_dag_dataset(40, executor=Executor("ray", workers), **kwargs)
    _same_dags(local, on_ray)
    with_contention = dict(kwargs, contention=True)
    _same_dags(
        generate_dag_dataset(20, executor=Executor(workers=2), **with_contention),
        generate_dag_dataset(20, executor="ray", **with_contention),
    )


@pytest.mark.parametrize("expert", ["myopic", "rollout"])
def test_multi_user_datasets_are_the_same_on_ray_and_locally(ray_cluster, expert):
    from gym_mecoffload.multi.data import generate_multi_dataset
    from gym_mecoffload.multi.model import make_scenario

    scenario = make_scenario("multi", users=3, servers=2, horizon=4)
    kwargs = dict(expert=expert, seed=5, shard_size=2, progress=False)
    local = generate_multi_dataset(6, scenario, executor=SEQUENTIAL, **kwargs)
    on_ray = generate_multi_dataset(6, scenario, executor=Executor("ray", workers=2), **kwargs)
    for name in ("states", "observations", "has_task", "places", "costs"):
        assert np.array_equal(getattr(local, name), getattr(on_ray, name)), name


@pytest.mark.parametrize(("channel", "q"), [("static", 0.0), (MarkovChannel(stay=0.9), 0.1)])
def test_chain_datasets_are_the_same_on_ray_and_locally(ray_cluster, channel, q):
    kwargs = dict(seed=3, shard_size=150, channel=channel, outage_probability=q)
    local = generate_dataset(1000, executor=Executor(workers=2), **kwargs)
    on_ray = generate_dataset(1000, executor=Executor("ray", workers=2), **kwargs)
    assert np.array_equal(local.states.data, on_ray.states.data)
    assert np.array_equal(local.decisions, on_ray.decisions)
    assert np.array_equal(local.costs, on_ray.costs)
    if local.slots is not None:
        assert np.array_equal(local.slots.attempts, on_ray.slots.attempts)


def test_the_progress_bar_counts_shards(ray_cluster, capsys):
    generate_dag_dataset(12, n_subtasks=5, shard_size=4, executor="ray", progress=True)
    assert "3/3 shards" in capsys.readouterr().err


def _die_once(shard: tuple[int, str]) -> tuple[int, int]:
    """The shard's value and the pid that computed it; shard 2's first worker dies."""
    index, marks = shard
    mark = Path(marks) / f"{index}.started"
    first = not mark.exists()
    mark.write_text(str(os.getpid()))
    if index == 2 and first:
        os._exit(1)  # the worker process dies, as on a lost node
    return index * index, os.getpid()


def test_a_shard_whose_worker_dies_is_rerun_once(ray_cluster, tmp_path):
    values = run_shards(_die_once, [(i, str(tmp_path)) for i in range(6)], executor="ray")
    assert [value for value, _ in values] == [i * i for i in range(6)]
    assert (tmp_path / "2.started").exists()


def test_without_retries_a_dead_worker_fails_its_shard_alone(ray_cluster, tmp_path):
    with pytest.raises(ShardsFailed, match=r"shard 2 \(\(2, .*WorkerCrashedError") as caught:
        run_shards(_die_once, [(i, str(tmp_path)) for i in range(4)], executor="ray", retries=0)
    failed = caught.value
    assert isinstance(failed.__cause__, ray.exceptions.WorkerCrashedError)
    assert list(failed.failures) == [2]
    assert [None if r is None else r[0] for r in failed.results] == [0, 1, None, 9]


def _raise_on_three(value: int) -> int:
    if value == 3:
        raise ArithmeticError("shard 3 is bad")
    return value


def _raise_on_three_once_each(shard: tuple[int, str]) -> int:
    """Shard ``value`` of ``(value, marks)``, counting its runs in ``marks``; 3 raises."""
    value, marks = shard
    with open(Path(marks) / str(value), "a") as runs:
        runs.write("ran\n")
    return _raise_on_three(value)


@pytest.mark.parametrize("workers", [None, 2])
def test_an_error_in_a_shard_is_named_not_retried_and_the_rest_finish(
    ray_cluster, tmp_path, workers
):
    shards = [(i, str(tmp_path)) for i in range(6)]
    with pytest.raises(ShardsFailed) as caught:
        run_shards(_raise_on_three_once_each, shards, executor=Executor("ray", workers))
    failed = caught.value
    # The shard by its repr, cut short: (3, '/tmp/pytest-of-.../test_an_error...').
    assert re.search(
        r"shard 3 \(\(3, '/tmp.*\.\.\..*'\)\): ArithmeticError: shard 3 is bad", str(failed)
    )
    assert isinstance(failed.__cause__, ArithmeticError)  # Ray's RayTaskError is one too
    assert failed.__cause__ is failed.failures[3]
    assert failed.results == [0, 1, 2, None, 4, 5]
    # Every shard ran exactly once: the failed one was not retried, none was skipped.
    assert sorted(p.name for p in tmp_path.iterdir()) == [str(i) for i in range(6)]
    assert all(p.read_text() == "ran\n" for p in tmp_path.iterdir())


def _parent(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


def _ours(pid: int) -> bool:
    """Whether ``pid`` descends from this process (this test's Ray, not another one's)."""
    while pid > 1:
        if pid == os.getpid():
            return True
        pid = _parent(pid)
    return False


def _label_workers() -> list[int]:
    """Pids of this test's Ray workers now labelling a DAG shard (named after the task)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
                if title.startswith(b"ray::_label_shard") and _ours(int(entry.name)):
                    pids.append(int(entry.name))
            except (OSError, ValueError):
                continue  # the process ended while we looked
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's workers through /proc")
def test_killing_workers_mid_run_loses_and_duplicates_nothing(ray_cluster, tmp_path):
    kwargs = dict(n_subtasks=10, seed=5, shard_size=10, progress=False)
    local = generate_dag_dataset(240, executor=Executor(workers=2), **kwargs)
    killed: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        # SIGKILL two workers while they label, as a node lost mid-run would.
        while not stop.is_set() and len(killed) < 2:
            for pid in _label_workers():
                if pid not in killed:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.05)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        on_ray = generate_dag_dataset(240, executor="ray", **kwargs)
    finally:
        stop.set()
        thread.join()
    # Two kills are the aim; one suffices if the run ends before a second worker is caught.
    assert killed, "the test never caught a worker labelling"
    assert len(on_ray) == 240
    _same_dags(local, on_ray)
    path = on_ray.save(tmp_path / "dags.npz")
    _same_dags(local, DagDataset.load(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dags.npz"]


_LABEL_DAGS = dag_data._label_shard  # the real labeller, kept before a test patches it


def _dags_but_shard_2(shard):
    if shard.index == 2:
        raise ArithmeticError("the MILP gave up")
    return _LABEL_DAGS(shard)


def test_a_failed_dag_shard_on_ray_keeps_the_others_labels(ray_cluster, monkeypatch):
    kwargs = dict(n_subtasks=6, seed=8, shard_size=5, progress=False)
    whole = generate_dag_dataset(22, executor=SEQUENTIAL, **kwargs)
    monkeypatch.setattr(dag_data, "_label_shard", _dags_but_shard_2)  # shipped by value
    with pytest.raises(ShardsFailed) as caught:
        generate_dag_dataset(22, executor="ray", **kwargs)
    failed = caught.value
    assert "1 of 5 shards failed" in str(failed)
    assert "shard 2 (tasks 10..14, rng [8, 2]): ArithmeticError: the MILP gave up" in str(failed)
    assert "the 17 tasks of those shards are in .partial" in str(failed)
    _same_dags(failed.partial, whole[np.r_[0:10, 15:22]])


def _nap(shard: tuple[int, str]) -> int:
    index, marks = shard
    (Path(marks) / str(index)).touch()
    time.sleep(3)
    return index


def test_keyboard_interrupt_on_ray_stops_at_once_and_cancels_the_rest(ray_cluster, tmp_path):
    # As Ctrl-C would, a second into a run of 8 three-second shards on 2 CPUs (12 s). With
    # Python's own SIGINT handler, as at a terminal: a runner started as a background job
    # inherits SIGINT ignored, and interrupt_main() then does nothing.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            run_shards(_nap, [(i, str(tmp_path)) for i in range(8)], executor="ray")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert type(caught.value) is KeyboardInterrupt
    assert time.monotonic() - started < 4
    time.sleep(1)
    assert len(list(tmp_path.iterdir())) < 8  # the queued shards never started


_UNREACHABLE = """
import json, socket, sys, time
from gym_mecoffload.executors import Executor, connect_ray, run_shards

def attempt(call):
    started = time.monotonic()
    try:
        call()
    except ConnectionError as error:
        return [time.monotonic() - started, str(error)]
    return [time.monotonic() - started, "connected"]

closed = socket.socket(); closed.bind(("127.0.0.1", 0)); port = closed.getsockname()[1]
closed.close()
import ray
print(json.dumps({
    "refused": attempt(lambda: connect_ray("127.0.0.1:1")),
    "closed": attempt(lambda: run_shards(abs, [1], executor=Executor("ray", address=f"127.0.0.1:{port}"))),
    "unresolved": attempt(lambda: connect_ray("no-such-host.invalid:6379", timeout_s=2)),
    "initialised": ray.is_initialized(),
}))
"""


def test_an_unreachable_cluster_fails_fast_with_the_real_ray():
    # In a fresh process: this session's Ray is already initialised, and would be kept.
    done = subprocess.run(
        [sys.executable, "-c", _UNREACHABLE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    for case in ("refused", "closed", "unresolved"):
        elapsed, message = outcome[case]
        assert message.startswith("no Ray cluster answers at"), (case, message)
        assert "ray start --head" in message
        assert elapsed < 5, (case, elapsed)
    assert not outcome["initialised"]
