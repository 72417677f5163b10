"""Experts and reference policies on fluctuating channels (SPEC-CHANNELS section 3).

A *sequential policy* here is a callable bound to a batch of N tasks,
``policy(step, previous_place, edge_bandwidth, cloud_bandwidth) -> places``: the
place of subtask ``step`` of every task given the place of subtask ``step - 1``
and the current slot's bandwidths (bytes/s), all (N,) arrays. That is all an
agent may know (with the law of the channel): :func:`rollout` plays such a
policy on realised slots.

* :func:`clairvoyant`: the chain DP on the realised slots (a lower bound).
* :class:`MdpExpert`: the optimal policy for the channel's law, by backward
  induction over (subtask, previous place, channel state). Exact for ``static``
  and ``markov``; for ``iid`` and ``rayleigh`` the expectation over the next
  slot is a quadrature with proved bounds (:meth:`MdpExpert.expected_cost_bounds`).
* :class:`CertaintyEquivalent`: the static DP assuming the current slot's
  bandwidths (and the mean number of attempts) last for the rest of the task.
* :class:`SequentialGreedy`: the paper's Greedy on the current slot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gym_mecoffload.chain import solvers
from gym_mecoffload.chain.model import LinkCosts, TaskBatch, require_batch
from gym_mecoffload.channels.processes import (
    Cells,
    ChannelModel,
    MarkovLink,
)
from gym_mecoffload.core.checks import (
    check_count,
    check_indices,
    check_representable,
    first_bad,
    holds_bool,
    real_array,
)
from gym_mecoffload.core.costs import per_byte_costs
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.objective import Objective, as_objective
from gym_mecoffload.core.topology import DEVICE, N_PLACES

SequentialPolicy = Callable[[int, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

# Cells per link of the quadrature for iid and rayleigh: 16 x 16 = 256 nodes per slot, about
# 0.4 ms per task of 6 subtasks. Its estimate moved by about 0.1% from 16 to 96 cells on the
# paper's scenario (docs/channels.md); MdpExpert.expected_cost_bounds gives a proved, looser bracket.
DEFAULT_CELLS = 16
# The quadrature holds n_cells**2 channel states per task and subtask: 128 cells is 16K
# states, about 0.4 MB per task of 6 subtasks; more is memory, not accuracy.
MAX_CELLS = 128
_CHUNK_ELEMENTS = 2**21  # tasks x states x 9 values in one backward pass (16 MB per array)


def clairvoyant(
    tasks: TaskBatch, slots: Slots | None, objective: str | Objective = "latency"
) -> np.ndarray:
    """The optimum (N, n) on the realised slots: knows the future, so no policy does better.

    ``slots=None`` is the paper's static, reliable channel, every transfer at the tasks'
    own bandwidths, once: the one representation of that channel in the package
    (:meth:`ChannelModel.realise` returns None for it, :meth:`Slots.realised` reads it so),
    so on it the clairvoyant is the paper's static optimum. Anything else but a
    :class:`Slots` is a TypeError.
    """
    return solvers.optimal(require_batch(tasks, "tasks"), objective, _check_slots(tasks, slots))


def _check_slots(tasks: TaskBatch, slots: Any) -> Slots | None:
    """``slots`` if it is None (the static, reliable channel) or :class:`Slots` that fit
    ``tasks``; else a TypeError or ValueError saying what is allowed."""
    if slots is None:
        return None
    if not isinstance(slots, Slots):
        raise TypeError(
            "slots must be a Slots (a channel's realisation, ChannelModel.realise makes one) "
            f"or None (the paper's static, reliable channel); got {type(slots).__name__}"
        )
    slots.check_against(tasks)
    return slots


def rollout(tasks: TaskBatch, slots: Slots | None, policy: SequentialPolicy) -> np.ndarray:
    """The decisions (N, n) a sequential policy takes on realised slots (None: the paper's
    static, reliable channel), subtask by subtask, seeing slot t's bandwidths when it
    places subtask t and never a later slot's.

    At every step the policy must return a place (0 device, 1 edge, 2 cloud) for every
    task: an integer or an (N,) integer array; anything else (a float, a bool, a place
    out of range, another shape) is a ValueError naming the step.
    """
    tasks = require_batch(tasks, "tasks")
    slots = Slots.realised(tasks, _check_slots(tasks, slots))
    if not callable(policy):
        raise TypeError(
            "policy must be callable as policy(step, previous_place, edge_bandwidth, "
            f"cloud_bandwidth) -> places; got {type(policy).__name__}"
        )
    decisions = np.empty((tasks.n_tasks, tasks.n_subtasks), dtype=np.int64)
    previous = np.full(tasks.n_tasks, DEVICE, dtype=np.int64)
    what = "places 0 (device), 1 (edge) or 2 (cloud)"
    for t in range(tasks.n_subtasks):
        places = policy(t, previous, slots.edge_bandwidths[:, t], slots.cloud_bandwidths[:, t])
        name = f"the places the policy returned at step {t}"
        if holds_bool(places):  # numpy would read [True, 0, 1] as integers
            raise ValueError(f"{name} must be integers, not bools, of {what}; got {places!r}")
        decisions[:, t] = check_indices(name, places, tasks.n_tasks, N_PLACES, what)
        previous = decisions[:, t].copy()  # a copy: a policy writing into it changes nothing
    return decisions


def _argmin_places(q: np.ndarray) -> np.ndarray:
    """argmin over the first axis (3 places), ties to the lowest index."""
    return q.argmin(axis=0).astype(np.int64)


class _Bound:
    """What every channel policy shares: the tasks, their costs and the channel model."""

    def __init__(
        self, tasks: TaskBatch, model: ChannelModel, objective: str | Objective = "latency"
    ) -> None:
        self.tasks = require_batch(tasks, "tasks")
        if not isinstance(model, ChannelModel):
            raise TypeError(f"model must be a ChannelModel; got {type(model).__name__}")
        self.model = model
        self.objective = as_objective(objective)
        links = LinkCosts(tasks, self.objective)
        self.run = links.run  # (n, 3, N)
        # Expected bytes moved per slot: each transfer is repeated 1 / (1 - q) times on average.
        self.data = links.data * model.mean_attempts  # (n + 1, N)
        self.n_subtasks = tasks.n_subtasks

    def _inputs(
        self, step: Any, previous: Any, edge_bandwidth: Any, cloud_bandwidth: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
        """The checked arguments of a call: step and previous place (N,) integers, the
        per-byte costs (3, 3, N) and the two bandwidths (N,) in bytes/s."""
        n_tasks = self.tasks.n_tasks
        step = check_indices("step", step, n_tasks, self.n_subtasks, "subtask indices")
        previous = check_indices("previous_place", previous, n_tasks, N_PLACES, "places 0, 1 or 2")
        bandwidths = []
        for name, value in (
            ("edge_bandwidth", edge_bandwidth),
            ("cloud_bandwidth", cloud_bandwidth),
        ):
            # Strings and bools refused: "1e6" or True must not pass as a bandwidth.
            array = real_array(name, value, "bytes/s")
            if array.ndim > 1 or (array.ndim == 1 and len(array) != n_tasks):
                raise ValueError(
                    f"{name} must be a number or a ({n_tasks},) array of bandwidths (bytes/s), "
                    f"one per task; got shape {array.shape}"
                )
            array = np.broadcast_to(array, (n_tasks,))
            bad = ~np.isfinite(array) | ~(array > 0)
            if bad.any():
                raise ValueError(
                    f"{name} must be finite and > 0 bytes/s; got {first_bad(array, bad)}"
                )
            check_representable(name, array)
            bandwidths.append(array)
        per_byte = per_byte_costs(self.objective, *bandwidths)  # (3, 3, N)
        return step, previous, per_byte, bandwidths

    def _now(self, step: np.ndarray, previous: np.ndarray, per_byte: np.ndarray) -> np.ndarray:
        """The expected cost (3, N) of each place for subtask ``step``: its input's transfer
        in the current slot plus its execution."""
        rows = np.arange(self.tasks.n_tasks)
        move = per_byte[previous, :, rows].T  # (3, N): per_byte[previous[i], p, i]
        return self.data[step, rows] * move + self.run[step, :, rows].T


class SequentialGreedy(_Bound):
    """The paper's Greedy on the current slot: the place minimising subtask t's execution
    plus its input's (expected) transfer, without looking ahead."""

    def __call__(
        self, step: Any, previous: Any, edge_bandwidth: Any, cloud_bandwidth: Any
    ) -> np.ndarray:
        step, previous, per_byte, _ = self._inputs(step, previous, edge_bandwidth, cloud_bandwidth)
        return _argmin_places(self._now(step, previous, per_byte))


class CertaintyEquivalent(_Bound):
    """At each step, the static DP assuming the current slot's bandwidths (and the mean
    number of attempts) last for the rest of the task: what a one-shot model does."""

    def __call__(
        self, step: Any, previous: Any, edge_bandwidth: Any, cloud_bandwidth: Any
    ) -> np.ndarray:
        step, previous, per_byte, _ = self._inputs(step, previous, edge_bandwidth, cloud_bandwidth)
        n, rows = self.n_subtasks, np.arange(self.tasks.n_tasks)
        # Cost to go after each place, from the last subtask back to the earliest step asked.
        to_go = self.data[n] * per_byte[:, DEVICE]  # (3, N): the output's return
        after = np.empty((n, N_PLACES, self.tasks.n_tasks))
        for t in range(n - 1, int(step.min()) - 1, -1):
            after[t] = to_go
            q = self.data[t] * per_byte + self.run[t] + to_go  # (prev, p, N)
            to_go = q.min(axis=1)
        return _argmin_places(self._now(step, previous, per_byte) + after[step, :, rows].T)


class MdpExpert(_Bound):
    """The optimal policy for the channel's law (SPEC-CHANNELS section 3).

    Backward induction over (subtask, previous place, channel state):
    ``V_t(prev, s) = min_p [cost of p now + E[V_{t+1}(p, s') | s]]``. The channel
    state is the pair of levels for ``markov`` (exact), the task's bandwidths for
    ``static`` (exact: the chain DP), and nothing for ``iid`` and ``rayleigh``,
    whose next slot does not depend on the current one: there the expectation
    over the next slot is a quadrature over ``n_cells`` cells per link, each at
    its conditional mean of 1 / b. Every value to go is a minimum of functions
    affine in the per-byte times (1 / b1, 1 / b2), hence concave, so that rule
    over-estimates the expectation, and the minimum over each cell's corners
    under-estimates it: :meth:`expected_cost_bounds` carries both through the
    recursion, a proved bracket of the exact expected optimal cost.

    Call it as a sequential policy in any state: any step, any previous place,
    any bandwidths (an observation's float32 values too; a Markov level is the
    nearest one), so DAgger can ask it anywhere.
    """

    def __init__(
        self,
        tasks: TaskBatch,
        model: ChannelModel,
        objective: str | Objective = "latency",
        n_cells: int = DEFAULT_CELLS,
    ) -> None:
        why = " (cells per link of the quadrature; it holds n_cells**2 states)"
        n_cells = check_count("n_cells", n_cells, 1, MAX_CELLS, why)
        super().__init__(tasks, model, objective)
        self.laws = model.link_laws()
        self.n_cells = n_cells
        n, size = self.n_subtasks, tasks.n_tasks
        if self.laws is None:  # static: one state per task, its own bandwidths
            states = per_byte_costs(self.objective, tasks.edge_bandwidth, tasks.cloud_bandwidth)
            self._expect = _Expectation(states[:, :, None, :], np.ones((1, 1)), None)
            self._lower = None
        elif all(isinstance(law, MarkovLink) for law in self.laws):
            edge, cloud = self.laws
            b1, b2 = np.meshgrid(edge.levels, cloud.levels, indexing="ij")
            states = per_byte_costs(self.objective, b1.ravel(), b2.ravel())[..., None]
            transition = np.kron(edge.transition, cloud.transition)
            initial = np.full((1, transition.shape[0]), 1.0 / transition.shape[0])
            self._expect = _Expectation(states, transition, initial)
            self._lower = None
        else:
            cells = [law.cells(n_cells) for law in self.laws]  # type: ignore[union-attr]
            self._expect = _Expectation.quadrature(self.objective, cells)
            self._lower = _Expectation.corners(self.objective, cells)  # only for the bounds
        # W[t, p, s, i]: the expected value to go after subtask t sits at p, given state s now.
        self.to_go = np.empty((n, N_PLACES, self._expect.n_conditions, size))
        self._start = self._solve(self._expect, self.to_go)

    def _solve(self, expect: _Expectation, store: np.ndarray | None) -> np.ndarray:
        """The backward pass over every task, in chunks that keep its arrays small."""
        size = self.tasks.n_tasks
        start = np.empty(size)
        chunk = max(1, _CHUNK_ELEMENTS // (9 * expect.n_states))
        for begin in range(0, size, chunk):
            part = slice(begin, min(size, begin + chunk))
            start[part] = self._backward(expect, part, None if store is None else store[..., part])
        return start

    def _backward(self, expect: _Expectation, part: slice, store: np.ndarray | None) -> np.ndarray:
        """Fill ``store`` (n, 3, conditions, k) for the tasks ``part``; return the expected
        optimal cost from the device before slot 0 (whose state the law draws too)."""
        n = self.n_subtasks
        states = expect.per_byte_at(part)  # (3, 3, S, k)
        value = self.data[n, part] * states[:, DEVICE]  # V_n(prev, s): the output's return
        for t in range(n - 1, -1, -1):
            after = expect(value)  # (3, conditions, k): E[V_{t+1}(p, s') | s]
            if store is not None:
                store[t] = after
            q = self.data[t, part] * states + self.run[t, None, :, None, part] + after[None]
            value = q.min(axis=1)  # (prev, S, k)
        return expect.initial_value(value[DEVICE])

    def __call__(
        self, step: Any, previous: Any, edge_bandwidth: Any, cloud_bandwidth: Any
    ) -> np.ndarray:
        step, previous, per_byte, (b1, b2) = self._inputs(
            step, previous, edge_bandwidth, cloud_bandwidth
        )
        rows = np.arange(self.tasks.n_tasks)
        state = np.zeros(self.tasks.n_tasks, dtype=np.intp)
        if self.model.channel.name == "markov":
            edge, cloud = self.laws  # type: ignore[misc]
            state[:] = edge.level_of(b1) * len(cloud.levels) + cloud.level_of(b2)
            # The cost now at the level's exact bandwidths, as the backward pass priced it.
            per_byte = self._expect.states[:, :, state, 0]
        after = self.to_go[step, :, state, rows].T  # (3, N)
        return _argmin_places(self._now(step, previous, per_byte) + after)

    def expected_cost(self) -> np.ndarray:
        """The expected cost (N,) of the optimal policy on each task, over the channel's law
        (slot 0 included): exact for ``static`` and ``markov``; the quadrature's estimate,
        an upper bound of the exact value, for ``iid`` and ``rayleigh``."""
        return self._start.copy()

    def expected_cost_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """A proved bracket ``(lower, upper)`` (N,) of the exact expected optimal cost.

        Equal to :meth:`expected_cost` twice where the expert is exact; for ``iid`` and
        ``rayleigh``, the corner and the Jensen quadratures carried through the whole
        recursion (see the class docstring). ``upper - lower`` is the stated error.
        """
        if self._lower is None:
            return self._start.copy(), self._start.copy()
        return self._solve(self._lower, None), self._start.copy()


class _Expectation:
    """E[V(p, s') | s] over the next slot's channel state, for a finite set of states.

    ``states`` (3, 3, S, 1 or N) are the per-byte costs at each state;
    ``transition`` (conditions, S) the chance of each next state given the
    current condition (one condition when the next slot does not depend on the
    current one); ``initial`` (1, S) the law of slot 0's state (None: slot 0's
    state is known, the static channel's). A corner rule replaces the weighted
    sum by weighted minima over each cell's four corners.
    """

    def __init__(
        self,
        states: np.ndarray,
        transition: np.ndarray,
        initial: np.ndarray | None,
        corners: np.ndarray | None = None,
    ) -> None:
        self.states = states
        self.transition = transition
        self.initial = initial
        self.corners = corners  # (cells, 4) state indices of each cell's corners
        self.n_states = states.shape[2]
        self.n_conditions = transition.shape[0]

    @classmethod
    def quadrature(cls, objective: Objective, cells: list[Cells]) -> _Expectation:
        edge, cloud = cells
        x1, x2 = np.meshgrid(edge.mean, cloud.mean, indexing="ij")
        weights = np.outer(edge.probability, cloud.probability).reshape(1, -1)
        return cls(_per_byte_at_times(objective, x1.ravel(), x2.ravel()), weights, weights)

    @classmethod
    def corners(cls, objective: Objective, cells: list[Cells]) -> _Expectation:
        edge, cloud = cells
        ends1 = np.concatenate([edge.low, edge.high])  # state index c (low) or M1 + c (high)
        ends2 = np.concatenate([cloud.low, cloud.high])
        x1, x2 = np.meshgrid(ends1, ends2, indexing="ij")
        m1, m2 = len(edge.low), len(cloud.low)
        c1, c2 = np.meshgrid(np.arange(m1), np.arange(m2), indexing="ij")
        c1, c2 = c1.ravel(), c2.ravel()
        width = 2 * m2
        corners = np.stack(
            [
                c1 * width + c2,
                c1 * width + m2 + c2,
                (m1 + c1) * width + c2,
                (m1 + c1) * width + m2 + c2,
            ],
            axis=1,
        )
        weights = np.outer(edge.probability, cloud.probability).reshape(1, -1)
        return cls(_per_byte_at_times(objective, x1.ravel(), x2.ravel()), weights, weights, corners)

    def per_byte_at(self, part: slice) -> np.ndarray:
        if self.states.shape[-1] == 1:
            return self.states
        return self.states[..., part]

    def __call__(self, value: np.ndarray, law: np.ndarray | None = None) -> np.ndarray:
        """(3, S, k) values at the next slot's states -> (3, conditions, k) expectations
        under ``law`` (conditions, S), the transition by default."""
        if self.corners is not None:
            value = value[:, self.corners].min(axis=2)  # (3, cells, k)
        return np.einsum("cs,psk->pck", self.transition if law is None else law, value)

    def initial_value(self, value: np.ndarray) -> np.ndarray:
        """E[V_0(device, s_0)] (k,) from (S, k) values at slot 0's states."""
        if self.initial is None:
            return value[0]
        return self(value[None], self.initial)[0, 0]


def _per_byte_at_times(
    objective: Objective, edge_time: np.ndarray, cloud_time: np.ndarray
) -> np.ndarray:
    """Per-byte costs (3, 3, S, 1) at per-byte times x = 1 / b (s/byte); x = 0 is an
    infinitely fast link."""
    with np.errstate(divide="ignore"):
        edge, cloud = 1.0 / edge_time, 1.0 / cloud_time
    return per_byte_costs(objective, edge, cloud)[..., None]


REFERENCE_POLICIES = (
    "mdp",
    "certainty_equivalent",
    "greedy",
    "local",
    "edge",
    "cloud",
    "random",
    "one_shot_optimal",
)


def reference_decisions(
    tasks: TaskBatch,
    slots: Slots | None,
    model: ChannelModel,
    rng: np.random.Generator,
    objective: str | Objective = "latency",
) -> dict[str, np.ndarray]:
    """Every reference policy's decisions (N, n) on the realised slots, and the
    ``clairvoyant``'s: the experts, the paper's heuristics, ``random`` (from ``rng``)
    and ``one_shot_optimal`` (the paper's exact optimum for slot 0's bandwidths, kept
    for the whole task, as a one-shot model would). ``slots=None``: the paper's static,
    reliable channel, as for :func:`clairvoyant`."""
    tasks = require_batch(tasks, "tasks")
    slots = _check_slots(tasks, slots)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    size, n = tasks.n_tasks, tasks.n_subtasks
    decisions = {
        "mdp": rollout(tasks, slots, MdpExpert(tasks, model, objective)),
        "certainty_equivalent": rollout(tasks, slots, CertaintyEquivalent(tasks, model, objective)),
        "greedy": rollout(tasks, slots, SequentialGreedy(tasks, model, objective)),
    }
    for place, name in enumerate(("local", "edge", "cloud")):
        decisions[name] = np.full((size, n), place, dtype=np.int64)
    decisions["random"] = rng.integers(0, N_PLACES, size=(size, n))
    decisions["one_shot_optimal"] = solvers.optimal(tasks, objective).astype(np.int64)
    decisions["clairvoyant"] = clairvoyant(tasks, slots, objective).astype(np.int64)
    return decisions
