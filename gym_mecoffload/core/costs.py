"""Cost tables over the places of a topology: what moving one byte between two places
costs under an objective (seconds, the device's joules, or their weighted sum)."""

from __future__ import annotations

import numpy as np

from gym_mecoffload.core.objective import Objective, as_objective
from gym_mecoffload.core.topology import DEVICE_EDGE_CLOUD, Topology


def per_byte_costs(
    objective: str | Objective, *bandwidths: np.ndarray, topology: Topology = DEVICE_EDGE_CLOUD
) -> np.ndarray:
    """The objective's cost of moving one byte from place a to place b, (P, P, *shape), at
    the topology's bandwidths (bytes/s; for the device-edge-cloud, b1 then b2) of any
    common shape: seconds, joules or their weighted sum.

    Linear in the inverse bandwidths, whatever the objective.
    """
    objective = as_objective(objective)
    arrays = [np.asarray(b) for b in bandwidths]
    if objective.name == "latency":
        return topology.per_byte_seconds(arrays)
    energy = topology.per_byte_joules(arrays, objective.tx_power, objective.rx_power)
    if objective.name == "energy":
        return energy
    w = objective.latency_weight
    return w * topology.per_byte_seconds(arrays) + (1 - w) * energy
