"""Multi-user datasets: the expert's own episodes, bit-identical across executors and worker
counts, saved atomically and refused when damaged or forged."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.executors import Executor
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.data import MultiDataset, generate_multi_dataset
from gym_mecoffload.multi.experts import make_policy
from gym_mecoffload.multi.model import draw_episodes, make_scenario

SC = make_scenario("multi", users=3, servers=2, horizon=5)


def test_the_labels_are_the_experts_places_on_its_own_episodes():
    data = generate_multi_dataset(
        5, SC, expert="myopic", shard_size=2, executor=Executor("local", workers=1), progress=False
    )
    assert len(data) == 5 * SC.horizon
    # Shard 1 replayed by hand: its stream [0, 1], the expert deciding each slot.
    core = MultiCore(SC, "latency", Objective(), 2)
    core.reset(draw_episodes(SC, 2, np.random.default_rng([0, 1])))
    policy = make_policy("myopic")
    for t in range(SC.horizon):
        places = np.where(core.current()["has_task"], policy(core), 0)
        cost = core.step(places).cost.sum(axis=-1)
        for e in range(2):
            row = (2 + e) * SC.horizon + t  # shard 1 holds episodes 2 and 3
            np.testing.assert_array_equal(data.places[row], places[e])
            assert data.costs[row] == cost[e]


def test_the_same_dataset_whatever_the_executor_and_workers():
    runs = [
        generate_multi_dataset(6, SC, expert="dpp", shard_size=2, executor=executor, progress=False)
        for executor in (Executor("local", workers=1), Executor("local", workers=2))
    ]
    for name in ("states", "observations", "has_task", "places", "costs"):
        np.testing.assert_array_equal(getattr(runs[0], name), getattr(runs[1], name))


def test_save_load_round_trip_and_damaged_files_fail_closed(tmp_path):
    data = generate_multi_dataset(
        2, SC, expert="jsq", shard_size=1, executor=Executor("local", workers=1), progress=False
    )
    path = data.save(tmp_path / "d.npz")
    back = MultiDataset.load(path)
    np.testing.assert_array_equal(back.places, data.places)
    observations, places = back.user_pairs()
    assert len(observations) == data.has_task.sum() and (observations[:, 0] == 1).all()
    # Truncated.
    raw = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError):
        MultiDataset.load(tmp_path / "cut.npz")
    # Forged: a place for a user without a task, a place out of range, a NaN state.
    arrays = dict(np.load(path))
    for name, change in (
        ("places", lambda a: np.where(~arrays["has_task"], 1, a).astype(np.int8)),
        ("places", lambda a: np.full_like(a, 9)),
        ("states", lambda a: np.where(True, np.nan, a).astype(np.float32)),
    ):
        forged = {**arrays, name: change(arrays[name])}
        np.savez(tmp_path / "forged.npz", **forged)
        with pytest.raises(ValueError, match="invalid multi-user dataset"):
            MultiDataset.load(tmp_path / "forged.npz")
    # Not a zip at all, and a member too many.
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError):
        MultiDataset.load(tmp_path / "junk.npz")
    with zipfile.ZipFile(tmp_path / "extra.npz", "w") as archive:
        with zipfile.ZipFile(path) as original:
            for member in original.namelist():
                archive.writestr(member, original.read(member))
        archive.writestr("evil.npy", b"")
    with pytest.raises(ValueError, match="unexpected members"):
        MultiDataset.load(tmp_path / "extra.npz")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"expert": "oracle"}, "expert must be one of"),
        ({"episodes": 0}, "episodes must be an integer"),
        ({"shard_size": True}, "shard_size must be an integer"),
        ({"objective": "speed"}, "objective must be one of"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        generate_multi_dataset(**{"episodes": 2, "scenario": SC, **kwargs})
