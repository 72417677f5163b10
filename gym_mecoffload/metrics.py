"""How decisions compare with the optimum (SPEC section 5)."""

from __future__ import annotations

import numpy as np

from gym_mecoffload.chain.model import TaskBatch, cost
from gym_mecoffload.core.objective import Objective


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


def channel_figures(
    costs: np.ndarray,
    clairvoyant_costs: np.ndarray,
    mdp_costs: np.ndarray,
    certainty_equivalent_costs: np.ndarray,
) -> dict[str, float | None]:
    """SPEC-CHANNELS section 4 for one policy over the same episodes, all (N,) costs.

    ``mean_ratio_clairvoyant``: mean of L / L_clairvoyant (>= 1 always);
    ``ratio_to_mdp``: sum L / sum L_mdp (1 is the best possible in expectation);
    ``gap_closed``: (mean L_ce - mean L) / (mean L_ce - mean L_mdp), the share of the
    certainty-equivalent policy's excess over the MDP expert that the policy
    closes (None when the two experts tie: nothing to close); ``mean_cost``.
    """
    costs = np.asarray(costs, dtype=np.float64)
    figures = normalised_cost(costs, clairvoyant_costs)
    ce, mdp = float(np.mean(certainty_equivalent_costs)), float(np.mean(mdp_costs))
    gap = ce - mdp
    return {
        "mean_ratio_clairvoyant": figures["mean_ratio"],
        "ratio_to_mdp": float(costs.sum() / np.sum(mdp_costs)),
        "gap_closed": float((ce - costs.mean()) / gap) if gap > 1e-12 * mdp else None,
        "mean_cost": float(costs.mean()),
    }
