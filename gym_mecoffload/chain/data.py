"""Demonstration data: sampled requirements labelled with the exact optimum."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gym_mecoffload.chain import solvers
from gym_mecoffload.chain.model import STATE_FIELDS, TaskBatch, check_decisions, cost, sample_states
from gym_mecoffload.chain.observations import features
from gym_mecoffload.channels.processes import Channel, ChannelModel
from gym_mecoffload.core.checks import check_count, real_array
from gym_mecoffload.core.links import SLOT_FIELDS, Slots
from gym_mecoffload.core.objective import Objective, as_objective
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.executors import Executor, as_executor, run_dataset_shards
from gym_mecoffload.io import atomic_write, objective_members, read_npz, read_objective

_FORMAT_VERSION = 1


@dataclass(frozen=True)
class OffloadDataset:
    """Requirements with their optimal decisions.

    Attributes:
        states: the sampled requirements (SI units).
        decisions: (N, n) int8 optimal places (0 device, 1 edge, 2 cloud).
        costs: (N,) the optimal decisions' costs (seconds for latency).
        scenario: name of the scenario the states were drawn from.
        objective: what ``decisions`` minimise.
        slots: the realised channel of each task under a fluctuating or unreliable
            channel (SPEC-CHANNELS), on which ``decisions`` are optimal (the
            clairvoyant's) and ``costs`` are paid; None for the paper's channel.
        features: (N, 2n + 5) float32 network inputs (derived from ``states``: under a
            fluctuating channel, what the agent sees first, slot 0).
    """

    states: TaskBatch
    decisions: np.ndarray
    costs: np.ndarray
    scenario: str
    objective: Objective
    slots: Slots | None = None
    features: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.states, TaskBatch):
            raise TypeError(f"states must be a TaskBatch; got {type(self.states).__name__}")
        if not isinstance(self.objective, Objective):
            raise TypeError(f"objective must be an Objective; got {self.objective!r}")
        if not isinstance(self.scenario, str):
            raise TypeError(f"scenario must be a name (str); got {self.scenario!r}")
        n_tasks, n = len(self.states), self.states.n_subtasks
        if np.shape(self.decisions) != (n_tasks, n) or np.shape(self.costs) != (n_tasks,):
            raise ValueError(
                f"decisions must be ({n_tasks}, {n}) and costs ({n_tasks},) to match the states; "
                f"got {np.shape(self.decisions)} and {np.shape(self.costs)}"
            )
        decisions = check_decisions(self.states, self.decisions).astype(solvers.DECISION_DTYPE)
        costs = real_array("costs", self.costs, "the objective's unit")
        if self.slots is not None:
            if not isinstance(self.slots, Slots):
                raise TypeError(f"slots must be a Slots or None; got {type(self.slots).__name__}")
            self.slots.check_against(self.states)
        expected = cost(self.states, decisions, self.objective, self.slots)
        # The decisions' own costs, to rounding: anything else is a damaged or forged file.
        if not np.isfinite(costs).all() or not np.allclose(costs, expected, rtol=1e-9, atol=0.0):
            i = int(
                np.argmax(~np.isfinite(costs) | ~np.isclose(costs, expected, rtol=1e-9, atol=0.0))
            )
            raise ValueError(
                f"costs must be the decisions' finite {self.objective.name} costs; task {i} "
                f"has {float(costs[i])!r} where its decision costs {float(expected[i])!r}"
            )
        for name, array in (("decisions", decisions), ("costs", costs)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "features", features(self.states))

    def __len__(self) -> int:
        return len(self.states)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the dataset as ``.npz``, atomically: a crash never leaves a half file at ``path``."""
        path = Path(path)
        arrays = {name: getattr(self.states, name) for name in STATE_FIELDS}
        arrays.update(
            decisions=self.decisions,
            costs=self.costs,
            scenario=np.array(self.scenario),
            format_version=np.array(_FORMAT_VERSION),
            **objective_members(self.objective),
        )
        if self.slots is not None:
            arrays.update({name: getattr(self.slots, name) for name in SLOT_FIELDS})
        with atomic_write(path) as handle:
            np.savez(handle, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> OffloadDataset:
        """Read a dataset written by :meth:`save`.

        Fails closed: the OS's own ``FileNotFoundError`` / ``PermissionError``, and
        a ``ValueError`` saying what is wrong for anything else: not a zip, a
        damaged member (CRC-32), a member whose header claims more data than it
        holds (checked before allocating), missing or unknown members, a field
        of the wrong type or shape, decisions outside {0, 1, 2}, costs that are
        not the decisions' finite costs. No pickled object is ever read.
        """
        path = Path(path)

        def expected(members: set[str]) -> set[str]:
            # The channel's slots come as all three members or none.
            return _MEMBERS | (set(SLOT_FIELDS) if set(SLOT_FIELDS) & members else set())

        arrays = read_npz(path, "dataset", expected)
        return cls._from_arrays(path, arrays)

    @classmethod
    def _from_arrays(cls, path: Path, arrays: dict[str, np.ndarray]) -> OffloadDataset:
        def scalar(name: str, kinds: str) -> np.ndarray:
            value = arrays[name]
            if value.shape != () or value.dtype.kind not in kinds:
                raise ValueError(
                    f"{path}: {name} must be a scalar of kind {kinds!r}; got dtype "
                    f"{value.dtype} and shape {value.shape}"
                )
            return value

        version = int(scalar("format_version", "iu"))
        if version != _FORMAT_VERSION:
            raise ValueError(
                f"{path} has dataset format {version}; this version reads {_FORMAT_VERSION}"
            )
        try:
            objective = read_objective(arrays)
            return cls(
                states=TaskBatch(**{name: arrays[name] for name in STATE_FIELDS}),
                decisions=arrays["decisions"],
                costs=arrays["costs"],
                scenario=str(scalar("scenario", "U")),
                objective=objective,
                slots=Slots(*(arrays[name] for name in SLOT_FIELDS))
                if SLOT_FIELDS[0] in arrays
                else None,
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path} holds an invalid dataset: {error}") from None


_MEMBERS = {
    *STATE_FIELDS,
    "decisions",
    "costs",
    "scenario",
    "objective",
    "objective_constants",
    "format_version",
}


def generate_dataset(
    n: int,
    *,
    scenario: str | Scenario = "paper",
    n_subtasks: int = 6,
    objective: str | Objective = "latency",
    channel: str | Channel = "static",
    outage_probability: float = 0.0,
    rng: np.random.Generator | None = None,
    seed: int | None = None,
    shard_size: int | None = None,
    executor: Executor | str = "local",
    progress: bool = False,
) -> OffloadDataset:
    """``n`` requirements of ``scenario`` labelled with their exact optimum (dynamic programming).

    Under a fluctuating or unreliable ``channel`` (SPEC-CHANNELS), each task's slots
    are drawn after the tasks, as an env draws them, and the label is the
    clairvoyant optimum on them: what the paper's one-shot DIL would imitate.

    Give exactly one source of randomness:

    * ``rng``: one stream, in this process (labelling costs about 3.5 us per task here);
    * ``seed``: seeded shards of ``shard_size`` tasks (default 100,000), shard k drawing
      from ``numpy.random.default_rng([seed, k])``, run by ``executor`` (an
      :class:`~gym_mecoffload.executors.Executor` or its name: ``"local"`` processes,
      default every core; or ``"ray"`` tasks). The dataset is the same, bit for bit,
      whatever the executor and its number of workers. ``progress`` counts finished shards.

    Raises:
        ShardsFailed: (``seed`` only) some shards raised; the others all ran. The
            message names each failed shard k (its tasks ``k * shard_size`` onwards and
            its stream ``[seed, k]``) and its error, the first of which is the
            ``__cause__``. ``partial`` is an :class:`OffloadDataset` of the finished
            shards' tasks, in shard order (the failed shards' tasks missing; None if no
            shard finished), and ``results`` has each shard's own part (None where it
            failed).
    """
    objective = as_objective(objective)
    model = ChannelModel.build(channel, outage_probability, scenario)
    if (rng is None) == (seed is None):
        raise ValueError("give exactly one of rng (one stream) and seed (seeded shards)")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
        if shard_size is not None or executor != "local":
            raise ValueError("shard_size and executor shard the work: give seed, not rng")
        return _label(_ChainShard(n, scenario, n_subtasks, objective, model), rng)
    n = check_count("n", n, 1)
    seed = check_count("seed", seed, 0)
    shard_size = check_count("shard_size", 100_000 if shard_size is None else shard_size, 1)
    executor = as_executor(executor)
    n_subtasks = check_count("n_subtasks", n_subtasks, 1)  # the scenario: by the model above
    shards = [
        _ChainShard(min(shard_size, n - start), scenario, n_subtasks, objective, model, seed, k)
        for k, start in enumerate(range(0, n, shard_size))
    ]

    def combine(parts: list[OffloadDataset]) -> OffloadDataset:
        slots = None if parts[0].slots is None else Slots.concatenate([p.slots for p in parts])
        return OffloadDataset(
            TaskBatch.concatenate([p.states for p in parts]),
            np.concatenate([p.decisions for p in parts]),
            np.concatenate([p.costs for p in parts]),
            parts[0].scenario,
            objective,
            slots,
        )

    return run_dataset_shards(
        _label_shard,
        shards,
        combine,
        shard_size=shard_size,
        executor=executor,
        progress="labelling tasks" if progress else None,
    )


@dataclass(frozen=True)
class _ChainShard:
    size: int
    scenario: str | Scenario
    n_subtasks: int
    objective: Objective
    model: ChannelModel
    seed: int = 0
    index: int = 0


def _label_shard(shard: _ChainShard) -> OffloadDataset:
    # Each shard draws from its own stream: the result does not depend on who runs it.
    return _label(shard, np.random.default_rng([shard.seed, shard.index]))


def _label(shard: _ChainShard, rng: np.random.Generator) -> OffloadDataset:
    states = sample_states(
        shard.size, scenario=shard.scenario, n_subtasks=shard.n_subtasks, rng=rng
    )
    states, slots = shard.model.realise(states, rng)
    decisions = solvers.optimal(states, shard.objective, slots)
    name = shard.scenario if isinstance(shard.scenario, str) else shard.scenario.name
    costs = cost(states, decisions, shard.objective, slots)
    return OffloadDataset(states, decisions, costs, name, shard.objective, slots)
