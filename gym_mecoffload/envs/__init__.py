"""The offloading environments, their vector versions and the joint-action wrapper."""

from gym_mecoffload.envs.offload import (
    JointActionWrapper,
    MecOffloadEnv,
    MecOffloadOneShotEnv,
    decode_joint_actions,
    encode_joint_actions,
)
from gym_mecoffload.envs.vector import MecOffloadOneShotVectorEnv, MecOffloadVectorEnv
from gym_mecoffload.observations import SequentialLayout, sequential_observations

__all__ = [
    "JointActionWrapper",
    "MecOffloadEnv",
    "MecOffloadOneShotEnv",
    "MecOffloadOneShotVectorEnv",
    "MecOffloadVectorEnv",
    "SequentialLayout",
    "decode_joint_actions",
    "encode_joint_actions",
    "sequential_observations",
]
