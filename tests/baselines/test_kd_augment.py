"""Synthetic states for distillation: recombination and mixup of a batch."""

import pytest
import torch

from baselines.kd import mixup, recombine

BATCH = torch.arange(40, dtype=torch.float32).view(8, 5) + 1  # distinct values, one row per state


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_recombine_takes_each_value_from_the_same_column():
    synthetic = recombine(BATCH, generator())
    assert synthetic.shape == BATCH.shape
    for column in range(BATCH.shape[1]):
        assert set(synthetic[:, column].tolist()) <= set(BATCH[:, column].tolist())
    # The columns are drawn independently: some synthetic row is no training row.
    rows = {tuple(row) for row in BATCH.tolist()}
    assert any(tuple(row) not in rows for row in synthetic.tolist())


def test_mixup_stays_between_the_two_mixed_states():
    synthetic = mixup(BATCH, generator())
    assert synthetic.shape == BATCH.shape
    low, high = BATCH.min(0).values, BATCH.max(0).values
    assert torch.all((synthetic >= low) & (synthetic <= high))
    # Rows of the arange batch differ by multiples of one row: a mix is some row plus a fraction.
    offset = (synthetic - BATCH[:1]) / 5
    assert not torch.allclose(offset, offset.round())


@pytest.mark.parametrize("augment", [recombine, mixup])
def test_augmentation_is_reproducible_from_its_generator(augment):
    assert torch.equal(augment(BATCH, generator(3)), augment(BATCH, generator(3)))
    assert not torch.equal(augment(BATCH, generator(3)), augment(BATCH, generator(4)))


@pytest.mark.parametrize("augment", [recombine, mixup])
def test_a_batch_of_one_state_gives_that_state(augment):
    same = BATCH[:1].repeat(6, 1)
    assert torch.equal(augment(same, generator()), same)
