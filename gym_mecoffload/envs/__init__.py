"""Forwards to the chain family's env classes (:mod:`gym_mecoffload.chain.envs`,
:mod:`gym_mecoffload.chain.wrappers`), kept so that
``gym_mecoffload.envs`` imports keep working."""

from gym_mecoffload.chain.envs import (
    MecOffloadEnv,
    MecOffloadOneShotEnv,
    MecOffloadOneShotVectorEnv,
    MecOffloadVectorEnv,
)
from gym_mecoffload.chain.observations import SequentialLayout, sequential_observations
from gym_mecoffload.chain.wrappers import (
    JointActionWrapper,
    decode_joint_actions,
    encode_joint_actions,
)

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
