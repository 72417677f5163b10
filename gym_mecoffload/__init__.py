"""Gymnasium environments for mobile edge computation offloading.

Importing the package registers ``MecOffload-v0`` (one subtask per step),
``MecOffloadOneShot-v0`` (the whole decision in one step) and ``MecOffloadDag-v0``
(DAG tasks) and ``MecOffloadMulti-v0`` (many users, several edge servers) with Gymnasium. It needs only gymnasium and numpy, and SciPy's HiGHS
for the DAG solvers.
"""

import gymnasium as gym

from gym_mecoffload.chain import solvers
from gym_mecoffload.chain.data import OffloadDataset, generate_dataset
from gym_mecoffload.chain.envs import (
    MecOffloadEnv,
    MecOffloadOneShotEnv,
    MecOffloadOneShotVectorEnv,
    MecOffloadVectorEnv,
)
from gym_mecoffload.chain.model import TaskBatch, cost, energy, latency, sample_states
from gym_mecoffload.chain.observations import SequentialLayout, features
from gym_mecoffload.chain.wrappers import (
    JointActionWrapper,
    decode_joint_actions,
    encode_joint_actions,
)
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import SCENARIOS, Scenario
from gym_mecoffload.core.topology import CLOUD, DEVICE, EDGE, PLACES

__version__ = "0.1.0"

# Every registration in one place; variants are other kwargs, not subclasses.
CHAIN_ENV_IDS = {
    "MecOffload-v0": "gym_mecoffload.chain.envs:MecOffloadEnv",
    "MecOffloadOneShot-v0": "gym_mecoffload.chain.envs:MecOffloadOneShotEnv",
}
ENV_IDS = {
    **CHAIN_ENV_IDS,
    "MecOffloadDag-v0": "gym_mecoffload.dag.envs:MecOffloadDagEnv",
    "MecOffloadMulti-v0": "gym_mecoffload.multi.envs:MecOffloadMultiEnv",
}
# Their native vector envs: `gym.make_vec(id, num_envs=N)` on gymnasium 1.x.
VECTOR_ENTRY_POINTS = {
    "MecOffload-v0": "gym_mecoffload.chain.envs:MecOffloadVectorEnv",
    "MecOffloadOneShot-v0": "gym_mecoffload.chain.envs:MecOffloadOneShotVectorEnv",
    "MecOffloadDag-v0": "gym_mecoffload.dag.envs:MecOffloadDagVectorEnv",
    "MecOffloadMulti-v0": "gym_mecoffload.multi.envs:MecOffloadMultiVectorEnv",
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
    "solvers",
]
