"""Forwards to where the DAG env's pieces live since the shared core: the env classes in
:mod:`gym_mecoffload.dag.envs`, the episodes, settings and rollouts in
:mod:`gym_mecoffload.dag.episodes`. Kept so that ``gym_mecoffload.dag.env`` imports keep
working."""

from gym_mecoffload.dag.envs import MecOffloadDagEnv, MecOffloadDagVectorEnv
from gym_mecoffload.dag.episodes import OPTIMA, DagEpisodes, DagSettings, pad_dags, rollout

__all__ = [
    "OPTIMA",
    "DagEpisodes",
    "DagSettings",
    "MecOffloadDagEnv",
    "MecOffloadDagVectorEnv",
    "pad_dags",
    "rollout",
]
