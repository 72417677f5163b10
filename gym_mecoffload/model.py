"""Forwards to where each piece lives since the shared core: the chain model
(:mod:`gym_mecoffload.chain.model`), its observation S
(:mod:`gym_mecoffload.chain.observations`) and the core's places, objective, costs,
scenarios and link realisations. Kept so that ``gym_mecoffload.model`` imports keep working.
"""

from gym_mecoffload.chain.model import (
    STATE_FIELDS,
    LinkCosts,
    TaskBatch,
    check_decisions,
    cost,
    energy,
    latency,
    links_one,
    path_cost,
    require_batch,
    sample_states,
    sample_tasks,
    stage_costs,
    stage_costs_one,
    step_costs,
)
from gym_mecoffload.chain.observations import (
    features,
    n_features,
    observed_bandwidths,
    slot_features,
)
from gym_mecoffload.core.checks import (
    GIGA,
    MEGA,
    FieldBatch,
    check_count,
    check_indices,
    holds_integers_below,
    real_array,
    real_number,
)
from gym_mecoffload.core.costs import per_byte_costs
from gym_mecoffload.core.links import SLOT_FIELDS, Slots
from gym_mecoffload.core.objective import OBJECTIVES, Objective, as_objective
from gym_mecoffload.core.scenario import SCENARIOS, Range, Scenario, as_scenario
from gym_mecoffload.core.topology import (
    CLOUD,
    DEVICE,
    DEVICE_EDGE_CLOUD,
    EDGE,
    N_PLACES,
    PLACES,
    PLATFORM_FIELDS,
    platform_arrays,
)

check_places = DEVICE_EDGE_CLOUD.check_places  # decisions (N, n) of places 0, 1, 2

__all__ = [
    "CLOUD",
    "DEVICE",
    "EDGE",
    "GIGA",
    "MEGA",
    "N_PLACES",
    "OBJECTIVES",
    "PLACES",
    "PLATFORM_FIELDS",
    "SCENARIOS",
    "SLOT_FIELDS",
    "STATE_FIELDS",
    "FieldBatch",
    "LinkCosts",
    "Objective",
    "Range",
    "Scenario",
    "Slots",
    "TaskBatch",
    "as_objective",
    "as_scenario",
    "check_count",
    "check_decisions",
    "check_places",
    "check_indices",
    "cost",
    "energy",
    "features",
    "holds_integers_below",
    "latency",
    "links_one",
    "n_features",
    "observed_bandwidths",
    "path_cost",
    "per_byte_costs",
    "platform_arrays",
    "real_array",
    "real_number",
    "require_batch",
    "sample_states",
    "sample_tasks",
    "slot_features",
    "stage_costs",
    "stage_costs_one",
    "step_costs",
]
