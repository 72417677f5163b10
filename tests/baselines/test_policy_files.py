"""Damaged and crafted policy files: every one fails closed with a clear error."""

import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from baselines.policies import NetworkPolicy, Standardize, load_policy, mlp, observation_size


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(
        Standardize(np.zeros(17), np.ones(17)), *mlp(observation_size("multilabel", 6), (8,), 18)
    )
    policy = NetworkPolicy("small", net, "multilabel", 6)
    return policy, policy.save(tmp_path / "policy.pt")


def same_weights(a, b):
    return all(
        torch.equal(x, y)
        for x, y in zip(a.net.state_dict().values(), b.net.state_dict().values(), strict=True)
    )


def craft(path, change):
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # n_subtasks = 10**9 hung the loader, which computed 3**n.
        (lambda p: p.update(kind="joint", n_subtasks=10**9), r"n_subtasks must be an integer in \[1, 39\] for a joint policy"),
        (lambda p: p.update(n_subtasks=True), r"n_subtasks must be an integer"),
        (lambda p: p.update(n_subtasks="6"), r"n_subtasks must be an integer"),
        (lambda p: p.update(name=5), r"name must be a string"),
        (lambda p: p.update(kind="tree"), r"kind must be one of"),
        (lambda p: p.pop("layers"), r"layers must be a non-empty list"),
        # KeyError and AttributeError leaked for these.
        (lambda p: p["layers"][1].pop("weight"), r"layer 1's weight must be a float tensor; got None"),
        (lambda p: p["layers"].__setitem__(1, "linear"), r"layer 1 must be a dict of type"),
        (lambda p: p["layers"][1].update(weight=torch.zeros(8, 5)), r"layer 1 does not chain: it takes 17 inputs"),
        (lambda p: p["layers"][3].update(bias=torch.zeros(7)), r"layer 3 does not chain"),
        (lambda p: p["layers"][1]["weight"].__setitem__((0, 0), float("nan")), r"layer 1's weight holds non-finite values"),
        (lambda p: p["layers"][0]["std"].__setitem__(4, 0.0), r"layer 0's std must be > 0"),
        (lambda p: p["layers"][0].update(std=torch.ones(3)), r"layer 0 standardises 17 inputs"),
        (lambda p: p["layers"][1].update(weight=torch.zeros(8, 17, dtype=torch.int64)), r"must be a float tensor"),
        (lambda p: p.update(layers=[{"type": "relu"}]), r"the layers end with 17 outputs"),
    ],
)  # fmt: skip
def test_crafted_payloads_are_refused(saved, change, message):
    _, path = saved
    craft(path, change)
    with pytest.raises(ValueError, match=message):
        load_policy(path)


def test_bit_flips_never_load_other_weights(saved):
    policy, path = saved
    original = path.read_bytes()
    rng = np.random.default_rng(0)
    loaded_intact = 0
    for position in rng.integers(0, len(original), size=400):
        flipped = bytearray(original)
        flipped[position] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(flipped))
        try:
            loaded = load_policy(path)
        except ValueError:
            continue
        assert same_weights(loaded, policy), f"a flip at byte {position} loaded other weights"
        loaded_intact += 1
    assert loaded_intact < 400  # the flips did reach the weights' bytes


def test_a_permission_error_is_not_called_corruption(saved, monkeypatch):
    _, path = saved

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(PermissionError, match="Permission denied"):
        load_policy(path)


def test_a_directory_is_not_a_policy(tmp_path):
    with pytest.raises(IsADirectoryError):
        load_policy(tmp_path)
