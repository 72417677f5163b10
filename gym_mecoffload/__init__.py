"""Gymnasium environments for mobile edge computation offloading.

Importing the package registers ``MecOffload-v0`` (one subtask per step),
``MecOffloadOneShot-v0`` (the whole decision in one step) and ``MecOffloadDag-v0``
(DAG tasks) with Gymnasium. It needs only gymnasium and numpy, and SciPy's HiGHS
for the DAG solvers.
"""

import gymnasium as gym

from gym_mecoffload.data import OffloadDataset, generate_dataset
from gym_mecoffload.envs import (
    JointActionWrapper,
    MecOffloadEnv,
    MecOffloadOneShotEnv,
    MecOffloadOneShotVectorEnv,
    MecOffloadVectorEnv,
    SequentialLayout,
    decode_joint_actions,
    encode_joint_actions,
)
from gym_mecoffload.model import (
    CLOUD,
    DEVICE,
    EDGE,
    PLACES,
    SCENARIOS,
    Objective,
    Scenario,
    TaskBatch,
    cost,
    energy,
    features,
    latency,
    sample_states,
)

__version__ = "0.1.0"

# Every registration in one place; variants are other kwargs, not subclasses.
CHAIN_ENV_IDS = {
    "MecOffload-v0": "gym_mecoffload.envs.offload:MecOffloadEnv",
    "MecOffloadOneShot-v0": "gym_mecoffload.envs.offload:MecOffloadOneShotEnv",
}
ENV_IDS = {**CHAIN_ENV_IDS, "MecOffloadDag-v0": "gym_mecoffload.dag.env:MecOffloadDagEnv"}
# Their native vector envs: `gym.make_vec(id, num_envs=N)` on gymnasium 1.x.
VECTOR_ENTRY_POINTS = {
    "MecOffload-v0": "gym_mecoffload.envs.vector:MecOffloadVectorEnv",
    "MecOffloadOneShot-v0": "gym_mecoffload.envs.vector:MecOffloadOneShotVectorEnv",
    "MecOffloadDag-v0": "gym_mecoffload.dag.env:MecOffloadDagVectorEnv",
}


def register_envs() -> None:
    """Register the package's environments with Gymnasium; safe to call again."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=entry_point,
                vector_entry_point=VECTOR_ENTRY_POINTS[env_id],
            )


register_envs()

__all__ = [
    "CHAIN_ENV_IDS",
    "CLOUD",
    "DEVICE",
    "EDGE",
    "ENV_IDS",
    "PLACES",
    "SCENARIOS",
    "JointActionWrapper",
    "MecOffloadEnv",
    "MecOffloadOneShotEnv",
    "MecOffloadOneShotVectorEnv",
    "MecOffloadVectorEnv",
    "Objective",
    "OffloadDataset",
    "Scenario",
    "SequentialLayout",
    "TaskBatch",
    "VECTOR_ENTRY_POINTS",
    "__version__",
    "cost",
    "decode_joint_actions",
    "encode_joint_actions",
    "energy",
    "features",
    "generate_dataset",
    "latency",
    "register_envs",
    "sample_states",
]
