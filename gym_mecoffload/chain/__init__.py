"""The paper's chain tasks (SPEC.md): ``MecOffload-v0`` and ``MecOffloadOneShot-v0``.

Rooms: :mod:`~.model` (requirements and their costs), :mod:`~.solvers` (the exact DP and
baselines), :mod:`~.observations`, :mod:`~.episodes` (blocks of tasks with their optimum),
:mod:`~.envs` and :mod:`~.vector` (the env classes), :mod:`~.wrappers`, :mod:`~.data`
(labelled datasets) and :mod:`~.rendering`.
"""
