"""Expert-labelled multi-user episodes, generated in seeded shards on local processes or Ray
(:mod:`gym_mecoffload.executors`); atomic ``.npz`` files that fail closed on load.

A dataset holds every slot of every episode an expert played: the global state, each
user's local observation, which users had a task, and the expert's places. Behaviour
cloning reads (local observation, place) pairs of users with a task (a per-user policy)
or (global state, places) (the dispatcher's).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gym_mecoffload.core.checks import check_count
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.executors import Executor, as_executor, run_dataset_shards
from gym_mecoffload.io import atomic_write, check_format_version, read_npz
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.experts import EXPERTS, HEURISTICS, Rollout, Sequential, make_policy
from gym_mecoffload.multi.model import MultiScenario, draw_episodes
from gym_mecoffload.multi.observations import (
    global_size,
    global_state,
    local_observations,
)

_FORMAT_VERSION = 1
_MEMBERS = {"states", "observations", "has_task", "places", "costs", "expert", "format_version"}


@dataclass(frozen=True)
class MultiDataset:
    """Slots an expert played (M slots of U users, S servers), validated on construction.

    Attributes:
        states: (M, U (9 + S) + 5S + 1) float32 global states.
        observations: (M, U, 10 + 6S) float32 local observations.
        has_task: (M, U) whether each user had a task to place.
        places: (M, U) int8 the expert's places (0 where no task).
        costs: (M,) the slot's cost under the expert (the objective's unit).
        expert: the expert's name.
    """

    states: np.ndarray
    observations: np.ndarray
    has_task: np.ndarray
    places: np.ndarray
    costs: np.ndarray
    expert: str

    def __post_init__(self) -> None:
        states = np.asarray(self.states)
        observations = np.asarray(self.observations)
        has_task = np.asarray(self.has_task)
        places = np.asarray(self.places)
        costs = np.asarray(self.costs)
        if observations.ndim != 3 or (observations.shape[2] - 10) % 6 or observations.shape[2] < 16:
            raise ValueError(
                f"observations must have shape (M, U, 10 + 6S); got {observations.shape}"
            )
        M, U, width = observations.shape
        S = (width - 10) // 6
        expected = {
            "states": (states, (M, global_size(U, S))),
            "has_task": (has_task, (M, U)),
            "places": (places, (M, U)),
            "costs": (costs, (M,)),
        }
        for name, (array, shape) in expected.items():
            if array.shape != shape:
                raise ValueError(f"{name} must have shape {shape}; got {array.shape}")
        for name, array in (("states", states), ("observations", observations)):
            if array.dtype != np.float32 or not (np.isfinite(array) & (array >= 0)).all():
                raise ValueError(f"{name} must be finite float32 values >= 0")
        if has_task.dtype != bool:
            raise ValueError(f"has_task must be bools; got dtype {has_task.dtype}")
        if places.dtype.kind not in "iu" or (
            places.size and (places.min() < 0 or places.max() > 2 * S)
        ):
            raise ValueError(f"places must be integers in [0, {2 * S}]")
        if (places[~has_task] != 0).any():
            raise ValueError("places must be 0 for users without a task")
        if (observations[..., 0] != has_task).any():
            raise ValueError("has_task must match the observations' task flags")
        if costs.dtype.kind != "f" or not (np.isfinite(costs) & (costs >= 0)).all():
            raise ValueError("costs must be finite floats >= 0")
        if not isinstance(self.expert, str) or not self.expert:
            raise TypeError(f"expert must be a name; got {self.expert!r}")
        for name, array in (
            ("states", states),
            ("observations", observations),
            ("has_task", has_task),
            ("places", places.astype(np.int8)),
            ("costs", costs.astype(np.float64)),
        ):
            array = array.copy()
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return len(self.places)

    def user_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(local observations (K, 10 + 6S), places (K,)) of every user with a task."""
        return self.observations[self.has_task], self.places[self.has_task].astype(np.int64)

    @classmethod
    def concatenate(cls, parts: list[MultiDataset]) -> MultiDataset:
        """One dataset of ``parts`` in order; they must share their expert."""
        if not parts:
            raise ValueError("concatenate needs at least one MultiDataset")
        if len({p.expert for p in parts}) != 1:
            raise ValueError(
                f"parts come from different experts: {sorted({p.expert for p in parts})}"
            )
        return cls(
            *(
                np.concatenate([getattr(p, name) for p in parts])
                for name in ("states", "observations", "has_task", "places", "costs")
            ),
            parts[0].expert,
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the dataset as ``.npz``, atomically."""
        path = Path(path)
        with atomic_write(path) as handle:
            np.savez(
                handle,
                states=self.states,
                observations=self.observations,
                has_task=self.has_task,
                places=self.places,
                costs=self.costs,
                expert=np.array(self.expert),
                format_version=np.array(_FORMAT_VERSION),
            )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> MultiDataset:
        """Read a dataset written by :meth:`save`; a damaged or forged file is a ValueError."""
        arrays = read_npz(Path(path), "multi-user dataset", lambda _: _MEMBERS)
        try:
            check_format_version(arrays, _FORMAT_VERSION)
            expert = arrays["expert"]
            if expert.shape != () or expert.dtype.kind != "U":
                raise ValueError("expert must be a name")
            return cls(
                arrays["states"],
                arrays["observations"],
                arrays["has_task"],
                arrays["places"],
                arrays["costs"],
                str(expert),
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path} holds an invalid multi-user dataset: {error}") from None


def play(core: MultiCore, policy: Sequential) -> list[tuple[np.ndarray, ...]]:
    """Run ``policy`` on ``core`` to the end of its episodes; every slot's (states,
    observations, has_task, places, costs)."""
    slots = []
    while not core.done.any():
        states, observations = global_state(core), local_observations(core)
        has = core.current()["has_task"]
        places = np.where(has, policy(core), 0)
        result = core.step(places)
        slots.append((states, observations, has, places, result.cost.sum(axis=-1)))
    return slots


@dataclass(frozen=True)
class _Shard:
    index: int
    size: int
    seed: int
    scenario: MultiScenario
    objective: str
    constants: Objective
    expert: str


def _expert(name: str, rng_seed: list[int]) -> Sequential:
    if name == "rollout":
        return Rollout(seed=np.random.default_rng(rng_seed).integers(2**63))
    return make_policy(name)


def _play_shard(shard: _Shard) -> MultiDataset:
    # Each shard draws from its own stream: the result does not depend on who runs it.
    rng = np.random.default_rng([shard.seed, shard.index])
    core = MultiCore(shard.scenario, shard.objective, shard.constants, shard.size)
    core.reset(draw_episodes(shard.scenario, shard.size, rng))
    slots = play(core, _expert(shard.expert, [shard.seed, shard.index, 1]))
    # Slot-major within a step, episode-major in the dataset: episode e's slots in order.
    parts = [np.stack(column, axis=1) for column in zip(*slots, strict=True)]
    flat = [p.reshape((-1,) + p.shape[2:]) for p in parts]
    return MultiDataset(*flat, shard.expert)


def generate_multi_dataset(
    episodes: int,
    scenario: MultiScenario,
    *,
    expert: str = "myopic",
    objective: str = "latency",
    constants: Objective | None = None,
    seed: int = 0,
    shard_size: int = 16,
    executor: Executor | str = "local",
    progress: bool = True,
) -> MultiDataset:
    """``episodes`` episodes of ``scenario`` played by ``expert`` (a name of
    :data:`~gym_mecoffload.multi.experts.EXPERTS` or ``HEURISTICS``), in shards of
    ``shard_size`` episodes.

    Shard k draws its episodes (and the rollout's futures) from streams seeded by
    ``[seed, k]``, so the dataset is the same, bit for bit, whatever the executor and its
    number of workers (it does depend on ``shard_size``). Raises ``ShardsFailed`` as
    :func:`~gym_mecoffload.dag.data.generate_dag_dataset` does, with the finished shards'
    dataset as ``partial``.
    """
    episodes = check_count("episodes", episodes, 1)
    shard_size = check_count("shard_size", shard_size, 1)
    seed = check_count("seed", seed, 0)
    if expert not in {**EXPERTS, **HEURISTICS}:
        raise ValueError(
            f"expert must be one of {sorted({**EXPERTS, **HEURISTICS})}; got {expert!r}"
        )
    if not isinstance(scenario, MultiScenario):
        raise TypeError(f"scenario must be a MultiScenario (make_scenario); got {scenario!r}")
    MultiCore(scenario, objective, constants or Objective(), 1)  # refuses a bad objective
    count = math.ceil(episodes / shard_size)
    shards = [
        _Shard(
            k,
            min(shard_size, episodes - k * shard_size),
            seed,
            scenario,
            objective,
            constants or Objective(),
            expert,
        )
        for k in range(count)
    ]
    return run_dataset_shards(
        _play_shard,
        shards,
        MultiDataset.concatenate,
        shard_size=shard_size,
        executor=as_executor(executor),
        progress=f"playing {expert}" if progress else None,
    )
