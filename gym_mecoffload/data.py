"""Demonstration data: sampled requirements labelled with the exact optimum."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gym_mecoffload import solvers
from gym_mecoffload.io import atomic_write
from gym_mecoffload.model import (
    STATE_FIELDS,
    Objective,
    Scenario,
    TaskBatch,
    as_objective,
    cost,
    features,
    sample_states,
)

_FORMAT_VERSION = 1


@dataclass(frozen=True)
class OffloadDataset:
    """Requirements with their optimal decisions.

    Attributes:
        states: the sampled requirements (SI units).
        decisions: (N, n) int8 optimal places (0 device, 1 edge, 2 cloud).
        costs: (N,) the optimal decisions' costs (seconds for latency).
        scenario: name of the scenario the states were drawn from.
        objective: what ``decisions`` minimise.
        features: (N, 2n + 5) float32 network inputs (derived from ``states``).
    """

    states: TaskBatch
    decisions: np.ndarray
    costs: np.ndarray
    scenario: str
    objective: Objective
    features: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n_tasks, n = len(self.states), self.states.n_subtasks
        if np.shape(self.decisions) != (n_tasks, n) or np.shape(self.costs) != (n_tasks,):
            raise ValueError(
                f"decisions must be ({n_tasks}, {n}) and costs ({n_tasks},) to match the states; "
                f"got {np.shape(self.decisions)} and {np.shape(self.costs)}"
            )
        object.__setattr__(self, "features", features(self.states))

    def __len__(self) -> int:
        return len(self.states)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the dataset as ``.npz``, atomically: a crash never leaves a half file at ``path``."""
        path = Path(path)
        arrays = {name: getattr(self.states, name) for name in STATE_FIELDS}
        objective = self.objective
        arrays.update(
            decisions=self.decisions,
            costs=self.costs,
            scenario=np.array(self.scenario),
            objective=np.array(objective.name),
            objective_constants=np.array(
                [objective.latency_weight, objective.kappa, objective.tx_power, objective.rx_power]
            ),
            format_version=np.array(_FORMAT_VERSION),
        )
        with atomic_write(path) as handle:
            np.savez(handle, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> OffloadDataset:
        """Read a dataset written by :meth:`save`; a missing or damaged file raises a clear error."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no dataset file at {path}")
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
            raise ValueError(
                f"{path} is not a readable dataset .npz (truncated or corrupt?): {error}"
            ) from error
        expected = {
            *STATE_FIELDS,
            "decisions",
            "costs",
            "scenario",
            "objective",
            "objective_constants",
            "format_version",
        }
        missing = sorted(expected - set(arrays))
        if missing:
            raise ValueError(f"{path} is not a gym_mecoffload dataset: it lacks {missing}")
        if int(arrays["format_version"]) != _FORMAT_VERSION:
            raise ValueError(
                f"{path} has dataset format {int(arrays['format_version'])}; this version reads {_FORMAT_VERSION}"
            )
        weight, kappa, tx_power, rx_power = arrays["objective_constants"].tolist()
        return cls(
            states=TaskBatch(**{name: arrays[name] for name in STATE_FIELDS}),
            decisions=arrays["decisions"],
            costs=arrays["costs"],
            scenario=str(arrays["scenario"]),
            objective=Objective(str(arrays["objective"]), weight, kappa, tx_power, rx_power),
        )


def generate_dataset(
    n: int,
    *,
    scenario: str | Scenario = "paper",
    n_subtasks: int = 6,
    objective: str | Objective = "latency",
    rng: np.random.Generator,
) -> OffloadDataset:
    """``n`` requirements of ``scenario`` labelled with their exact optimum (dynamic programming)."""
    objective = as_objective(objective)
    states = sample_states(n, scenario=scenario, n_subtasks=n_subtasks, rng=rng)
    decisions = solvers.optimal(states, objective)
    name = scenario if isinstance(scenario, str) else scenario.name
    return OffloadDataset(states, decisions, cost(states, decisions, objective), name, objective)
