"""DAG demonstrations labelled by the exact MILP expert, generated in seeded shards on
local processes or Ray (:mod:`gym_mecoffload.executors`); atomic ``.npz`` files that
fail closed on load."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gym_mecoffload.core.checks import check_count, real_array
from gym_mecoffload.core.objective import Objective, as_objective
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.dag import experts
from gym_mecoffload.dag.experts import Labels
from gym_mecoffload.dag.graphs import DagGenerator
from gym_mecoffload.dag.model import DAG_FIELDS, DagBatch, check_decisions_dag, cost
from gym_mecoffload.dag.solvers import MILP_GAP
from gym_mecoffload.executors import Executor, as_executor, run_dataset_shards
from gym_mecoffload.io import (
    atomic_write,
    check_format_version,
    objective_members,
    read_npz,
    read_objective,
)

_FORMAT_VERSION = 1
_MEMBERS = {
    *DAG_FIELDS,
    "decisions",
    "costs",
    "lower_bound",
    "exact",
    "contention",
    "objective",
    "objective_constants",
    "format_version",
}


@dataclass(frozen=True)
class DagDataset:
    """DAG tasks with their expert placements.

    Attributes:
        dags: the tasks.
        decisions: (N, n) the expert's places: the MILP's optimum without contention;
            with contention the exact optimum where ``exact``, else the best known.
        costs: (N,) the decisions' costs under ``objective`` and ``contention``.
        lower_bound: (N,) the no-contention optimum (equal to ``costs`` without contention).
        exact: (N,) bool, whether each decision is proved optimal.
        contention: the model the labels are for.
        objective: what the decisions minimise.
    """

    dags: DagBatch
    decisions: np.ndarray
    costs: np.ndarray
    lower_bound: np.ndarray
    exact: np.ndarray
    contention: bool
    objective: Objective

    @classmethod
    def from_labels(
        cls, dags: DagBatch, labels: Labels, contention: bool, objective: Objective
    ) -> DagDataset:
        """``dags`` with an expert's :class:`~gym_mecoffload.dag.experts.Labels` (checked)."""
        return cls(
            dags,
            labels.decisions,
            labels.costs,
            labels.lower_bound,
            labels.exact,
            contention,
            objective,
        )

    @property
    def labels(self) -> Labels:
        """The expert's placements, costs, bounds and proofs."""
        return Labels(self.decisions, self.costs, self.lower_bound, self.exact)

    def __post_init__(self) -> None:
        if not isinstance(self.dags, DagBatch):
            raise TypeError(f"dags must be a DagBatch; got {type(self.dags).__name__}")
        if not isinstance(self.contention, (bool, np.bool_)):
            raise TypeError(f"contention must be a bool; got {self.contention!r}")
        size = len(self.dags)
        decisions = check_decisions_dag(self.dags, self.decisions).astype(np.int8)
        costs = real_array("costs", self.costs, "the objective's unit")
        lower = real_array("lower_bound", self.lower_bound, "the objective's unit")
        exact = np.asarray(self.exact)
        if costs.shape != (size,) or lower.shape != (size,) or exact.shape != (size,):
            raise ValueError(f"costs, lower_bound and exact must have shape ({size},)")
        if exact.dtype != bool:
            raise ValueError(f"exact must be bools; got dtype {exact.dtype}")
        expected = cost(self.dags, decisions, self.objective, contention=bool(self.contention))
        if not (np.isfinite(costs).all() and np.allclose(costs, expected, rtol=1e-9, atol=0.0)):
            raise ValueError(
                "costs must be the decisions' finite costs (a damaged or forged dataset)"
            )
        if not (np.isfinite(lower) & (lower >= 0)).all():
            raise ValueError("lower_bound must be finite and >= 0 (a damaged or forged dataset)")
        if not (lower <= costs * (1 + 1e-9)).all():
            raise ValueError("lower_bound must not exceed the decisions' costs")
        # Without contention the bound is HiGHS's (or the optimum): an exact label is within
        # the MILP's gap of it.
        proved = exact & (not self.contention)
        if (costs[proved] > lower[proved] * (1 + MILP_GAP)).any():
            i = int(np.flatnonzero(proved & (costs > lower * (1 + MILP_GAP)))[0])
            raise ValueError(
                f"task {i}'s label is called exact but costs {costs[i]!r}, above the optimum "
                f"{lower[i]!r} it carries (a damaged or forged dataset)"
            )
        for name, array in (
            ("decisions", decisions),
            ("costs", costs),
            ("lower_bound", lower),
            ("exact", exact),
        ):
            array = array.copy()
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "contention", bool(self.contention))

    def __len__(self) -> int:
        return len(self.dags)

    def __getitem__(self, index: Any) -> DagDataset:
        """The tasks selected by ``index`` (an int, slice, mask or index array), labelled."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return DagDataset(
            self.dags[index],
            self.decisions[index],
            self.costs[index],
            self.lower_bound[index],
            self.exact[index],
            self.contention,
            self.objective,
        )

    @classmethod
    def concatenate(cls, parts: list[DagDataset]) -> DagDataset:
        """One dataset holding the tasks of ``parts`` in order (validated again); the parts
        must share their contention model and objective."""
        if not parts:
            raise ValueError("concatenate needs at least one DagDataset")
        first = parts[0]
        for part in parts[1:]:
            if (part.contention, part.objective) != (first.contention, first.objective):
                raise ValueError(
                    "parts' labels are for different models: contention and objective "
                    f"{first.contention}, {first.objective} against {part.contention}, "
                    f"{part.objective}"
                )
        return cls(
            DagBatch.concatenate([p.dags for p in parts]),
            np.concatenate([p.decisions for p in parts]),
            np.concatenate([p.costs for p in parts]),
            np.concatenate([p.lower_bound for p in parts]),
            np.concatenate([p.exact for p in parts]),
            first.contention,
            first.objective,
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the dataset as ``.npz``, atomically."""
        path = Path(path)
        arrays = {name: getattr(self.dags, name) for name in DAG_FIELDS}
        arrays.update(
            decisions=self.decisions,
            costs=self.costs,
            lower_bound=self.lower_bound,
            exact=self.exact,
            contention=np.array(self.contention),
            format_version=np.array(_FORMAT_VERSION),
            **objective_members(self.objective),
        )
        with atomic_write(path) as handle:
            np.savez(handle, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> DagDataset:
        """Read a dataset written by :meth:`save`, failing closed as ``OffloadDataset.load``."""
        arrays = read_npz(Path(path), "DAG dataset", lambda _: _MEMBERS)
        try:
            check_format_version(arrays, _FORMAT_VERSION)
            contention = arrays["contention"]
            if contention.shape != () or contention.dtype != bool:
                raise ValueError("contention must be a bool")
            return cls(
                dags=DagBatch(**{field: arrays[field] for field in DAG_FIELDS}),
                decisions=arrays["decisions"],
                costs=arrays["costs"],
                lower_bound=arrays["lower_bound"],
                exact=arrays["exact"],
                contention=bool(contention),
                objective=read_objective(arrays),
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path} holds an invalid DAG dataset: {error}") from None


@dataclass(frozen=True)
class _Shard:
    index: int
    size: int
    seed: int
    generator: DagGenerator
    contention: bool
    objective: Objective


def _label_shard(shard: _Shard) -> DagDataset:
    # Each shard draws from its own stream: the result does not depend on who runs it.
    rng = np.random.default_rng([shard.seed, shard.index])
    dags = shard.generator.generate(shard.size, rng)
    labels = experts.label(dags, shard.objective, contention=shard.contention)
    return DagDataset.from_labels(dags, labels, shard.contention, shard.objective)


def generate_dag_dataset(
    n: int,
    *,
    n_subtasks: int = 20,
    fat: float = 0.5,
    density: float = 0.5,
    regularity: float = 0.5,
    jump: int = 1,
    scenario: str | Scenario = "paper",
    contention: bool = False,
    objective: str | Objective = "latency",
    seed: int = 0,
    shard_size: int = 64,
    executor: Executor | str = "local",
    progress: bool = True,
) -> DagDataset:
    """``n`` random DAG tasks (:func:`~gym_mecoffload.dag.graphs.generate_dags`) with their
    expert labels, in shards of ``shard_size`` tasks.

    Shard k draws from ``numpy.random.default_rng([seed, k])``, so the dataset is the
    same, bit for bit, whatever the executor and its number of workers (it does depend
    on ``shard_size``). ``executor`` (an :class:`~gym_mecoffload.executors.Executor` or
    its name) runs the shards on local processes (default: every core;
    ``Executor("local", workers=1)`` runs them in this process) or as Ray tasks,
    rerunning a shard whose worker dies (:mod:`gym_mecoffload.executors`).
    Labels cost milliseconds each (the MILP: about 11 ms at n = 20 on one core here),
    so plan budgets from measured times (docs/dag.md). ``progress`` counts finished shards
    on stderr. Save the result with :meth:`DagDataset.save`, which writes atomically.

    Raises:
        ShardsFailed: some shards raised; the others all ran. The message names each
            failed shard k (its tasks ``k * shard_size`` onwards and its stream
            ``[seed, k]``) and its error, the first of which is the ``__cause__``.
            ``partial`` is a :class:`DagDataset` of the finished shards' tasks, in shard
            order (the failed shards' tasks missing; None if no shard finished), and
            ``results`` has each shard's own part (None where it failed).
    """
    n = check_count("n", n, 1)
    shard_size = check_count("shard_size", shard_size, 1)
    seed = check_count("seed", seed, 0)
    executor = as_executor(executor)
    if not isinstance(contention, bool):
        raise TypeError(f"contention must be a bool; got {contention!r}")
    generator = DagGenerator(n_subtasks, fat, density, regularity, jump, scenario)
    objective = as_objective(objective)
    count = math.ceil(n / shard_size)
    shards = [
        _Shard(k, min(shard_size, n - k * shard_size), seed, generator, contention, objective)
        for k in range(count)
    ]

    return run_dataset_shards(
        _label_shard,
        shards,
        DagDataset.concatenate,
        shard_size=shard_size,
        executor=executor,
        progress="labelling DAGs" if progress else None,
    )
