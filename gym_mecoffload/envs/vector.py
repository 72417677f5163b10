"""Forwards: the old vector entry point (``gym_mecoffload.envs.vector:...``), kept so that
serialised env specs still load. The classes live in :mod:`gym_mecoffload.chain.envs`."""

from gym_mecoffload.chain.envs import MecOffloadOneShotVectorEnv, MecOffloadVectorEnv

__all__ = ["MecOffloadOneShotVectorEnv", "MecOffloadVectorEnv"]
