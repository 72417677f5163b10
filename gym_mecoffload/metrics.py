"""How decisions compare with the optimum (SPEC section 5)."""

from __future__ import annotations

import numpy as np

from gym_mecoffload.model import Objective, TaskBatch, cost


def normalised_cost(costs: np.ndarray, optimal_costs: np.ndarray) -> dict[str, float]:
    """``mean_ratio`` = mean(L_i / L*_i) (the headline) and ``ratio_of_means`` = sum(L_i) / sum(L*_i).

    Both are 1.0 for optimal decisions. Raises ``ValueError`` if an optimal cost
    is not positive, where the ratio is undefined.
    """
    costs = np.asarray(costs, dtype=np.float64)
    optimal_costs = np.asarray(optimal_costs, dtype=np.float64)
    if costs.shape != optimal_costs.shape:
        raise ValueError(f"costs {costs.shape} and optimal_costs {optimal_costs.shape} must match")
    if not (optimal_costs > 0).all():
        raise ValueError(
            "normalised cost needs every optimal cost > 0; a task costs nothing at its optimum"
        )
    return {
        "mean_ratio": float(np.mean(costs / optimal_costs)),
        "ratio_of_means": float(costs.sum() / optimal_costs.sum()),
    }


def label_accuracy(decisions: np.ndarray, optimal_decisions: np.ndarray) -> dict[str, float]:
    """``label_accuracy``: fraction of subtask places equal to the optimum's; ``exact_match``: of whole decisions."""
    same = np.asarray(decisions) == np.asarray(optimal_decisions)
    return {"label_accuracy": float(same.mean()), "exact_match": float(same.all(axis=1).mean())}


def evaluate_decisions(
    batch: TaskBatch,
    decisions: np.ndarray,
    optimal_decisions: np.ndarray,
    objective: str | Objective = "latency",
) -> dict[str, float]:
    """Every decision-quality figure of SPEC section 5 for ``decisions`` on ``batch``.

    Also ``mean_cost``: the decisions' mean cost (seconds for latency).
    """
    costs = cost(batch, decisions, objective)
    return {
        **normalised_cost(costs, cost(batch, optimal_decisions, objective)),
        **label_accuracy(decisions, optimal_decisions),
        "mean_cost": float(costs.mean()),
    }
