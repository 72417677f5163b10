"""The DAG family's expert: each task's placements by the MILP (without contention) or
the best known (with it), with their costs and how far they are proved."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gym_mecoffload.core.checks import check_switch
from gym_mecoffload.core.objective import Objective, as_objective
from gym_mecoffload.dag.model import DagBatch
from gym_mecoffload.dag.solvers import best_known, solve_milp


@dataclass(frozen=True)
class Labels:
    """An expert's placements of N DAG tasks.

    Attributes:
        decisions: (N, n) places: the MILP's optimum without contention; with contention
            the exact optimum where ``exact``, else the best known.
        costs: (N,) the decisions' costs under the objective and the contention model.
        lower_bound: (N,) the no-contention optimum (equal to ``costs`` without contention).
        exact: (N,) bool, whether each decision is proved optimal.
    """

    decisions: np.ndarray
    costs: np.ndarray
    lower_bound: np.ndarray
    exact: np.ndarray


def label(
    dags: DagBatch, objective: str | Objective = "latency", *, contention: bool = False
) -> Labels:
    """``dags``' expert placements: the MILP without contention; with it,
    :func:`~gym_mecoffload.dag.solvers.best_known` (exact where n allows)."""
    objective = as_objective(objective)
    if not check_switch("contention", contention):
        result = solve_milp(dags, objective)
        return Labels(result.decisions, result.values, result.lower_bound, result.exact)
    found = best_known(dags, objective)
    return Labels(found.decisions, found.cost, found.lower_bound, np.full(len(dags), found.exact))
