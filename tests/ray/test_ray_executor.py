"""The Ray executor: the same datasets as the local one, and no shard lost or counted twice
when workers die."""

import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gym_mecoffload import generate_dataset
from gym_mecoffload.channels import MarkovChannel
from gym_mecoffload.dag.data import DagDataset, generate_dag_dataset
from gym_mecoffload.executors import SEQUENTIAL, Executor, run_shards

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


def test_without_retries_a_dead_worker_fails_the_run(ray_cluster, tmp_path):
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        run_shards(_die_once, [(i, str(tmp_path)) for i in range(4)], executor="ray", retries=0)


def _raise_on_three(value: int) -> int:
    if value == 3:
        raise ArithmeticError("shard 3 is bad")
    return value


def test_an_error_in_a_shard_propagates_and_is_not_retried(ray_cluster):
    with pytest.raises(ArithmeticError, match="shard 3 is bad"):
        run_shards(_raise_on_three, range(6), executor="ray")


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
