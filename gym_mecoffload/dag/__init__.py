"""DAG tasks, the paper's future work (SPEC-DAG): model, graphs, solvers and an env."""

from gym_mecoffload.dag.model import DagBatch, cost, energy, makespan, priority_order

__all__ = ["DagBatch", "cost", "energy", "makespan", "priority_order"]
