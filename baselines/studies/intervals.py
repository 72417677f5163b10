"""Confidence intervals of the studies: percentile intervals of a seeded two-level
bootstrap of the mean over (training seeds, test items), the items shared by every seed."""

from __future__ import annotations

import numpy as np

# Percentile intervals of a seeded bootstrap of the mean.
RESAMPLES = 2_000
LEVEL = 0.95
BOOTSTRAP_SEED = 0


def bootstrap_means(
    values: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    *,
    same_dags: bool = True,
) -> np.ndarray:
    """The bootstrap distribution (``resamples``,) of the mean of ``values`` (seeds, test
    items), two-level: each resample draws as many seeds with replacement, then as many
    test items with replacement, and averages what it drew. With one seed it is the
    ordinary bootstrap over test items.

    Every seed places the same test items, so by default (``same_dags``) one draw of test
    items serves all the drawn seeds: a hard DAG stays hard for every seed. Drawing them
    anew within each seed (``same_dags=False``) would count S seeds' placements of one
    test set as S times as many independent DAGs, narrowing the DAGs' share of the
    interval by about the square root of S.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(
            f"values must be a non-empty (seeds, test items) array; got {values.shape}"
        )
    rng = np.random.default_rng(seed)
    seeds, items = values.shape
    picked = rng.integers(seeds, size=(resamples, seeds, 1))
    within = rng.integers(items, size=(resamples, 1 if same_dags else seeds, items))
    return values[picked, within].mean(axis=(1, 2))


def confidence_interval(
    values: np.ndarray,
    level: float = LEVEL,
    resamples: int = RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    *,
    same_dags: bool = True,
) -> tuple[float, float, float]:
    """The mean of ``values`` (seeds, test items) and the ``level`` percentile interval of
    its two-level bootstrap (:func:`bootstrap_means`)."""
    means = bootstrap_means(values, resamples, seed, same_dags=same_dags)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    mean = float(np.mean(values))
    # The interval holds the mean but for rounding (equal values summed in another order).
    return mean, min(float(low), mean), max(float(high), mean)
