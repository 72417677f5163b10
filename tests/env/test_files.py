"""Damaged, crafted and interrupted dataset files: every one fails closed with a clear error."""

import io
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from gym_mecoffload import generate_dataset, sample_states
from gym_mecoffload.chain.data import OffloadDataset
from gym_mecoffload.io import atomic_write, check_zip


@pytest.fixture
def saved(tmp_path):
    dataset = generate_dataset(30, rng=np.random.default_rng(0))
    return dataset, dataset.save(tmp_path / "demo.npz")


def rewrite(path, change):
    """Rewrite the .npz at ``path`` with ``change(arrays)`` applied to its arrays."""
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    change(arrays)
    np.savez(path, **arrays)


def same_dataset(a, b):
    return all(
        np.array_equal(getattr(a.states, f), getattr(b.states, f))
        for f in ("cycles", "data", "device_hz", "edge_hz", "edge_bandwidth", "cloud_bandwidth", "cloud_hz")
    ) and np.array_equal(a.decisions, b.decisions) and np.array_equal(a.costs, b.costs)  # fmt: skip


def test_round_trip_keeps_every_field_including_cloud_hz(tmp_path):
    states = sample_states(5, rng=np.random.default_rng(1))
    from gym_mecoffload import TaskBatch, solvers
    from gym_mecoffload.chain.model import STATE_FIELDS, cost

    fields = {name: getattr(states, name) for name in STATE_FIELDS}
    slow_cloud = TaskBatch(**{**fields, "cloud_hz": np.full(5, 3e9)})
    decisions = solvers.optimal(slow_cloud)
    dataset = OffloadDataset(
        slow_cloud,
        decisions,
        cost(slow_cloud, decisions),
        "custom",
        generate_dataset(1, rng=np.random.default_rng()).objective,
    )
    loaded = OffloadDataset.load(dataset.save(tmp_path / "cloud.npz"))
    assert same_dataset(loaded, dataset) and (loaded.states.cloud_hz == 3e9).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.update(format_version=np.array("1")), r"format_version must be a scalar"),
        (lambda a: a.update(format_version=np.array([1, 2])), r"format_version must be a scalar"),
        (lambda a: a.update(objective_constants=np.array(["a", "b", "c", "d"])), r"objective_constants must be 4 floats"),
        (lambda a: a.update(objective_constants=np.array([0.5, 1e-27, 0.5])), r"objective_constants must be 4 floats"),
        (lambda a: a.update(objective_constants=np.array([2.0, 1e-27, 0.5, 0.1])), r"latency_weight must be in \[0, 1\]"),
        (lambda a: a.update(objective=np.array(3)), r"objective must be a scalar of kind 'U'"),
        (lambda a: a["decisions"].__setitem__((0, 0), 7), r"decisions must hold places 0 \(device\), 1 \(edge\) or 2 \(cloud\); got 7"),
        (lambda a: a["decisions"].__setitem__((0, 0), -1), r"got -1"),
        (lambda a: a.update(decisions=a["decisions"] + 0.5), r"decisions must be integers"),
        (lambda a: a["costs"].__setitem__(3, np.nan), r"costs must be the decisions' finite latency costs; task 3 has nan"),
        (lambda a: a["costs"].__setitem__(2, a["costs"][2] * 0.5), r"task 2 has"),
        (lambda a: a.update(costs=a["costs"][:-1]), r"costs \(30,\) to match the states"),
        (lambda a: a.update(device_hz=np.array(["fast"] * 30)), r"device_hz must hold real numbers"),
        (lambda a: a.update(extra=np.zeros(2)), r"dataset: it has unexpected members \['extra'\]$"),
        (lambda a: a.pop("costs"), r"it lacks \['costs'\]"),
        (lambda a: a.update(data=a["data"].astype(np.complex128)), r"member 'data' has dtype complex128; numbers and strings only"),
    ],
)  # fmt: skip
def test_crafted_contents_are_refused(saved, change, message):
    _, path = saved
    rewrite(path, change)
    with pytest.raises(ValueError, match=message):
        OffloadDataset.load(path)


def test_a_header_claiming_a_huge_array_is_refused_before_allocating(saved):
    _, path = saved
    # A member whose header claims 1e12 float64 (7 TiB) over 16 bytes of data.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    )
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["costs.npy"] = b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 16
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(ValueError, match=r"member 'costs' claims shape \(1000000000000,\)"):
        OffloadDataset.load(path)


def test_not_a_zip_and_foreign_zips(tmp_path):
    npy = tmp_path / "plain.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match=r"not a readable dataset \.npz \(not a zip archive\)"):
        OffloadDataset.load(npy)
    for method in (zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        odd = tmp_path / f"method{method}.npz"
        with zipfile.ZipFile(odd, "w", compression=method) as archive:
            archive.writestr("costs.npy", b"x" * 100)
        with pytest.raises(ValueError, match=rf"uses zip compression method {method}"):
            OffloadDataset.load(odd)
    with pytest.raises(IsADirectoryError):
        OffloadDataset.load(tmp_path)


def test_an_encrypted_member_is_refused(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x01\x02")  # the first central directory entry
    data[start + 8] |= 0x1  # its "encrypted" flag
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"is encrypted"):
        OffloadDataset.load(path)


def test_a_damaged_member_fails_its_crc(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    data[data.find(b"NUMPY") + 200] ^= 0x01  # inside the first member's array bytes
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"does not match its CRC-32 checksum"):
        OffloadDataset.load(path)


def test_bit_flips_never_load_different_data(saved):
    dataset, path = saved
    original = path.read_bytes()
    rng = np.random.default_rng(0)
    for position in rng.integers(0, len(original), size=400):
        flipped = bytearray(original)
        flipped[position] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(flipped))
        try:
            loaded = OffloadDataset.load(path)
        except ValueError:
            continue
        assert same_dataset(loaded, dataset), f"a flip at byte {position} loaded other data"


def test_os_errors_pass_through_undisguised(saved, monkeypatch):
    _, path = saved

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(PermissionError, match="Permission denied"):
        check_zip(path, "dataset .npz")
    with pytest.raises(PermissionError, match="Permission denied"):
        OffloadDataset.load(path)


def test_temp_files_of_dead_writers_are_swept(tmp_path):
    path = tmp_path / "demo.npz"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".demo.npz.{dead.pid}.tmpabc123"
    stale.write_bytes(b"half a file")
    alive = tmp_path / f".demo.npz.{os.getpid()}.tmpxyz"  # a live writer's: left alone
    alive.write_bytes(b"in progress")
    other = tmp_path / f".other.npz.{dead.pid}.tmpabc"  # another file's: left alone
    other.write_bytes(b"x")
    with atomic_write(path) as handle:
        handle.write(b"done")
    assert not stale.exists() and alive.exists() and other.exists()


KILLED_WRITER = """
import sys, numpy as np
from gym_mecoffload import generate_dataset
dataset = generate_dataset(200_000, rng=np.random.default_rng(0))
print("ready", flush=True)
while True:
    dataset.save(sys.argv[1])
"""


def test_sigkill_mid_save_leaves_no_partial_file_and_no_temp_after_the_next_save(tmp_path):
    path = tmp_path / "big.npz"
    rng = np.random.default_rng(0)
    for _ in range(5):
        writer = subprocess.Popen(
            [sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(float(rng.uniform(0.05, 0.4)))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if path.exists():
            assert len(OffloadDataset.load(path)) == 200_000  # never a partial file
    generate_dataset(10, rng=rng).save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.npz"]
