"""Demonstration datasets, metrics and atomic files."""

import numpy as np
import pytest

from gym_mecoffload import OffloadDataset, generate_dataset, solvers
from gym_mecoffload.chain.model import cost
from gym_mecoffload.io import atomic_write
from gym_mecoffload.metrics import evaluate_decisions, label_accuracy, normalised_cost


def test_dataset_holds_optimal_labels():
    dataset = generate_dataset(300, scenario="paper-kd", n_subtasks=5, rng=np.random.default_rng(0))
    assert dataset.features.shape == (300, 15) and dataset.decisions.shape == (300, 5)
    assert np.array_equal(dataset.decisions, solvers.exhaustive(dataset.states))
    assert dataset.costs == pytest.approx(cost(dataset.states, dataset.decisions))
    assert dataset.scenario == "paper-kd"


def test_dataset_is_reproducible():
    a = generate_dataset(50, rng=np.random.default_rng(4))
    b = generate_dataset(50, rng=np.random.default_rng(4))
    assert np.array_equal(a.features, b.features) and np.array_equal(a.decisions, b.decisions)


def test_save_load_round_trip(tmp_path):
    dataset = generate_dataset(100, objective="energy", rng=np.random.default_rng(1))
    path = dataset.save(tmp_path / "sub" / "demo.npz")
    loaded = OffloadDataset.load(path)
    assert np.array_equal(loaded.features, dataset.features)
    assert np.array_equal(loaded.decisions, dataset.decisions)
    assert np.array_equal(loaded.costs, dataset.costs)
    assert loaded.objective == dataset.objective and loaded.scenario == "paper"
    assert [p.name for p in path.parent.iterdir()] == ["demo.npz"]  # no temporary file left


def test_crash_while_saving_leaves_nothing(tmp_path, monkeypatch):
    dataset = generate_dataset(10, rng=np.random.default_rng(2))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        dataset.save(tmp_path / "demo.npz")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "table.md"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path, "w") as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_missing_truncated_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        OffloadDataset.load(tmp_path / "absent.npz")
    path = generate_dataset(20, rng=np.random.default_rng(3)).save(tmp_path / "demo.npz")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"not a readable dataset \.npz \(not a zip archive\)"):
        OffloadDataset.load(path)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(
        ValueError, match=r"not a gym_mecoffload dataset: it lacks \['cloud_bandwidth'"
    ):
        OffloadDataset.load(tmp_path / "other.npz")


def test_metrics_by_hand():
    assert normalised_cost([2.0, 3.0], [1.0, 3.0]) == {"mean_ratio": 1.5, "ratio_of_means": 1.25}
    assert label_accuracy(np.array([[0, 1], [2, 2]]), np.array([[0, 1], [2, 0]])) == {
        "label_accuracy": 0.75,
        "exact_match": 0.5,
    }
    with pytest.raises(ValueError, match="every optimal cost > 0"):
        normalised_cost([1.0], [0.0])


def test_optimal_decisions_score_one():
    dataset = generate_dataset(200, rng=np.random.default_rng(5))
    figures = evaluate_decisions(dataset.states, dataset.decisions, dataset.decisions)
    assert figures == {
        "mean_ratio": 1.0,
        "ratio_of_means": 1.0,
        "label_accuracy": 1.0,
        "exact_match": 1.0,
        "mean_cost": pytest.approx(dataset.costs.mean()),
    }
    greedy = evaluate_decisions(dataset.states, solvers.greedy(dataset.states), dataset.decisions)
    assert greedy["mean_ratio"] > 1.0 and greedy["label_accuracy"] < 1.0
