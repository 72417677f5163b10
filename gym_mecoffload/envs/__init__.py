"""The offloading environments and the joint-action wrapper."""

from gym_mecoffload.envs.offload import (
    JointActionWrapper,
    MecOffloadEnv,
    MecOffloadOneShotEnv,
    decode_joint_actions,
    encode_joint_actions,
    sequential_observations,
)

__all__ = [
    "JointActionWrapper",
    "MecOffloadEnv",
    "MecOffloadOneShotEnv",
    "decode_joint_actions",
    "encode_joint_actions",
    "sequential_observations",
]
