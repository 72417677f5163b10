"""Demonstration data: sampled requirements labelled with the exact optimum."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gym_mecoffload import solvers
from gym_mecoffload.channels.processes import Channel, ChannelModel
from gym_mecoffload.io import atomic_write, read_npz
from gym_mecoffload.model import (
    STATE_FIELDS,
    Objective,
    Scenario,
    Slots,
    TaskBatch,
    as_objective,
    check_decisions,
    cost,
    features,
    real_array,
    sample_states,
)

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
        objective = self.objective
        arrays.update(
            decisions=self.decisions,
            costs=self.costs,
            scenario=np.array(self.scenario),
            objective=np.array(objective.name),
            objective_constants=np.array(
                [objective.latency_weight, objective.kappa, objective.tx_power, objective.rx_power]
            ),
            format_version=np.array(_FORMAT_VERSION),
        )
        if self.slots is not None:
            arrays.update({name: getattr(self.slots, name) for name in _SLOT_MEMBERS})
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
            return _MEMBERS | (set(_SLOT_MEMBERS) if set(_SLOT_MEMBERS) & members else set())

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
        constants = arrays["objective_constants"]
        if constants.shape != (4,) or constants.dtype.kind != "f":
            raise ValueError(
                f"{path}: objective_constants must be 4 floats (latency_weight, kappa, "
                f"tx_power, rx_power); got dtype {constants.dtype} and shape {constants.shape}"
            )
        try:
            weight, kappa, tx_power, rx_power = constants.tolist()
            objective = Objective(str(scalar("objective", "U")), weight, kappa, tx_power, rx_power)
            return cls(
                states=TaskBatch(**{name: arrays[name] for name in STATE_FIELDS}),
                decisions=arrays["decisions"],
                costs=arrays["costs"],
                scenario=str(scalar("scenario", "U")),
                objective=objective,
                slots=Slots(*(arrays[name] for name in _SLOT_MEMBERS))
                if _SLOT_MEMBERS[0] in arrays
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
_SLOT_MEMBERS = ("edge_bandwidths", "cloud_bandwidths", "attempts")  # Slots' fields, in order


def generate_dataset(
    n: int,
    *,
    scenario: str | Scenario = "paper",
    n_subtasks: int = 6,
    objective: str | Objective = "latency",
    channel: str | Channel = "static",
    outage_probability: float = 0.0,
    rng: np.random.Generator,
) -> OffloadDataset:
    """``n`` requirements of ``scenario`` labelled with their exact optimum (dynamic programming).

    Under a fluctuating or unreliable ``channel`` (SPEC-CHANNELS), each task's slots
    are drawn after the tasks, as an env draws them, and the label is the
    clairvoyant optimum on them: what the paper's one-shot DIL would imitate.
    """
    objective = as_objective(objective)
    model = ChannelModel.build(channel, outage_probability, scenario)
    states = sample_states(n, scenario=scenario, n_subtasks=n_subtasks, rng=rng)
    states, slots = model.realise(states, rng)
    on_slots = None if model.fixed else slots
    decisions = solvers.optimal(states, objective, on_slots)
    name = scenario if isinstance(scenario, str) else scenario.name
    costs = cost(states, decisions, objective, on_slots)
    return OffloadDataset(states, decisions, costs, name, objective, on_slots)
