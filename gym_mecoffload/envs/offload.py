"""Forwards: the old registrations' entry point (``gym_mecoffload.envs.offload:...``),
kept so that serialised env specs still load. The classes live in
:mod:`gym_mecoffload.chain.envs` and :mod:`gym_mecoffload.chain.wrappers`."""

from gym_mecoffload.chain.envs import MecOffloadEnv, MecOffloadOneShotEnv
from gym_mecoffload.chain.wrappers import (
    MAX_JOINT_SUBTASKS,
    JointActionWrapper,
    decode_joint_actions,
    encode_joint_actions,
)

__all__ = [
    "MAX_JOINT_SUBTASKS",
    "JointActionWrapper",
    "MecOffloadEnv",
    "MecOffloadOneShotEnv",
    "decode_joint_actions",
    "encode_joint_actions",
]
