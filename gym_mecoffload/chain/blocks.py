"""Blocks of chain tasks with everything their episodes look up: link costs, the exact
optimum, the MDP expert's decisions, final infos."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from gym_mecoffload.chain import solvers
from gym_mecoffload.chain.model import LinkCosts, TaskBatch, previous_places
from gym_mecoffload.chain.observations import features, slot_features
from gym_mecoffload.chain.settings import EnvSettings
from gym_mecoffload.channels.experts import MdpExpert, rollout
from gym_mecoffload.core.episodes import check_relative_scale
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.topology import N_PLACES


@dataclass(frozen=True)
class TaskBlock:
    """A batch of tasks with everything their episodes look up, batch-last.

    ``measures[m, t, prev, p, i]`` is the link cost of subtask t of task i
    (:func:`~gym_mecoffload.chain.model.step_costs`) under the objective (m = 0),
    latency (m = 1) and energy (m = 2).
    """

    tasks: TaskBatch
    features: np.ndarray  # (B, 2n + 5) float32
    measures: np.ndarray  # (3, n, 3, 3, B)
    best: np.ndarray  # (B, n) int64, the exact (under a fluctuating channel: clairvoyant) optimum
    best_cost: np.ndarray  # (B,)
    best_latency: np.ndarray  # (B,)
    slots: Slots | None  # the realised channel, (B, n + 1) per field; None: the paper's
    slot_features: np.ndarray  # (B, n + 1, 2) float32: each slot's b1 and b2 as observed
    # (empty, (B, 0, 2), on the paper's static, reliable channel, whose slots never show)
    mdp: np.ndarray  # (B, n) int64: what the channel's MDP expert does on each episode
    mdp_cost: np.ndarray  # (B,)

    @classmethod
    def draw(cls, tasks: TaskBatch, settings: EnvSettings, rng: np.random.Generator) -> TaskBlock:
        """:meth:`build` on ``tasks`` after drawing their channel slots from ``rng`` (nothing
        is drawn for the paper's static, reliable channel)."""
        tasks, slots = settings.channel.realise(tasks, rng)
        return cls.build(tasks, settings, slots)

    @classmethod
    def given(
        cls,
        options: Mapping[str, Any],
        settings: EnvSettings,
        rng: np.random.Generator,
        size: int = 1,
    ) -> TaskBlock:
        """The block of a user's ``options["state"]`` (1 or ``size`` tasks, repeated to
        ``size``), on ``options["slots"]`` (a :class:`Slots` of as many tasks) if given,
        else on slots drawn from ``rng``."""
        tasks = settings.given(options["state"], sizes=(1, size))
        slots = options.get("slots")
        if slots is None:
            block_tasks, slots = settings.channel.realise(tasks, rng)
        else:
            if settings.channel.fixed:
                raise ValueError(
                    "options['slots'] needs a fluctuating or unreliable channel; this env's "
                    "channel is static and reliable, so every slot is the task's own"
                )
            if not isinstance(slots, Slots):
                raise TypeError(f"options['slots'] must be a Slots; got {type(slots).__name__}")
            if len(slots) != len(tasks):
                raise ValueError(
                    f"options['slots'] must hold {len(tasks)} task(s), as options['state']; "
                    f"got {len(slots)}"
                )
            slots.check_against(tasks)
            # The first observation shows slot 0, so the task's bandwidths are slot 0's.
            block_tasks = replace(
                tasks,
                edge_bandwidth=slots.edge_bandwidths[:, 0],
                cloud_bandwidth=slots.cloud_bandwidths[:, 0],
            )
        if len(block_tasks) != size:  # one task for every sub-env
            every = np.zeros(size, dtype=np.intp)
            block_tasks = block_tasks[every]
            slots = None if slots is None else slots[every]
        return cls.build(block_tasks, settings, slots)

    @classmethod
    def build(
        cls, tasks: TaskBatch, settings: EnvSettings, slots: Slots | None = None
    ) -> TaskBlock:
        """The block of ``tasks`` on realised ``slots`` (None: the tasks' own bandwidths)."""
        objective = settings.objective
        n = tasks.n_subtasks
        fixed = slots is None  # the paper's static, reliable channel
        measures = np.empty((3, n, N_PLACES, N_PLACES, len(tasks)))
        for m, measure in enumerate((objective, "latency", replace(objective, name="energy"))):
            if m == 1 and objective.name == "latency":
                measures[1] = measures[0]
                continue
            links = LinkCosts(tasks, measure, slots)
            for t in range(n):
                measures[m, t] = links(t)
        best = solvers.optimal(tasks, objective, slots).astype(np.int64)
        everyone = np.arange(len(tasks))
        best_cost, best_latency = left_fold(_path_links(measures[:2], everyone, best))
        if fixed:  # the MDP expert of a static channel is the DP itself
            mdp, mdp_cost = best, best_cost
        else:
            expert = MdpExpert(tasks, settings.channel, objective)
            mdp = rollout(tasks, slots, expert)
            mdp_cost = left_fold(_path_links(measures[:1], everyone, mdp))[0]
        if settings.reward_mode == "relative":
            # Every reward is a link over the optimal cost: the dearest link must divide finitely.
            dearest = measures[0].max(axis=(0, 1, 2))
            check_relative_scale(best_cost, dearest, "step", lambda i: f"the task {tasks.state(i)}")
        return cls(
            tasks,
            features(tasks),
            measures,
            best,
            best_cost,
            best_latency,
            slots,
            # Only a fluctuating channel shows its slots; the paper's keeps S's bandwidths.
            np.empty((len(tasks), 0, 2), np.float32) if fixed else slot_features(slots),
            mdp,
            mdp_cost,
        )

    @cached_property
    def realised(self) -> Slots:
        """Every slot's bandwidths and attempts, as the final infos report them (on the
        paper's channel, the tasks' own bandwidths and one attempt each)."""
        return Slots.realised(self.tasks, self.slots)

    def final_infos(
        self, index: np.ndarray, decisions: np.ndarray, totals: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """The final info of the episodes on tasks ``index`` (k,) that took ``decisions`` (k, n).

        ``totals`` (3, k), if given, are the decisions' objective, latency and
        energy costs, summed subtask by subtask as the episodes went.
        """
        if totals is None:
            totals = left_fold(self.path_links(index, decisions))
        cost, latency, energy = totals
        return {
            "latency": latency,
            "energy": energy,
            "cost": cost,
            "decision": decisions.astype(np.int64),
            "optimal_cost": self.best_cost[index],
            "optimal_latency": self.best_latency[index],
            "optimal_decision": self.best[index],
            "mdp_cost": self.mdp_cost[index],
            "mdp_decision": self.mdp[index],
            "edge_bandwidths": self.realised.edge_bandwidths[index],
            "cloud_bandwidths": self.realised.cloud_bandwidths[index],
            "attempts": self.realised.attempts[index],
        }

    def path_links(self, index: np.ndarray, decisions: np.ndarray) -> np.ndarray:
        """The links (3, k, n) that ``decisions`` (k, n) take on tasks ``index`` (k,):
        their objective, latency and energy costs, subtask by subtask."""
        return _path_links(self.measures, index, decisions)

    def step_links(
        self, t: int, index: np.ndarray, previous: np.ndarray, places: np.ndarray
    ) -> np.ndarray:
        """The links (3, k) of subtask ``t`` put at ``places`` after ``previous`` on tasks ``index``."""
        _, n, _, _, size = self.measures.shape
        flat = (previous * N_PLACES + places + t * N_PLACES * N_PLACES) * size + index
        return self.measures.reshape(3, -1).take(flat, axis=1)


def left_fold(links: np.ndarray) -> np.ndarray:
    """Sums over the last axis, subtask after subtask from 0.0: the order in which an
    episode's rewards add up, so a return is exactly minus the cost it reports."""
    total = np.zeros(links.shape[:-1])
    for t in range(links.shape[-1]):
        total += links[..., t]
    return total


def _path_links(measures: np.ndarray, index: np.ndarray, decisions: np.ndarray) -> np.ndarray:
    """The links (len(measures), k, n) each decision takes; sum them over the last axis.

    ``measures`` is (M, n, 3, 3, B), C-contiguous; the links are gathered by flat index,
    several times faster than numpy's broadcast fancy indexing over five axes.
    """
    m, n, _, _, size = measures.shape
    previous = previous_places(decisions)
    flat = (np.arange(n) * N_PLACES + previous) * N_PLACES + decisions  # (k, n)
    flat *= size
    flat += np.asarray(index)[:, None]
    return np.take(measures.reshape(m, -1), flat, axis=1)


def final_info_one(
    block: TaskBlock, index: int, decision: np.ndarray, totals: list[float]
) -> dict[str, Any]:
    """One episode's final info, with Python floats; ``totals`` are its objective, latency
    and energy costs summed as the episode went (:func:`left_fold`'s order)."""
    cost, latency, energy = totals
    return {
        "latency": latency,
        "energy": energy,
        "cost": cost,
        "decision": decision.copy(),
        "optimal_cost": float(block.best_cost[index]),
        "optimal_latency": float(block.best_latency[index]),
        "optimal_decision": block.best[index].copy(),
        "mdp_cost": float(block.mdp_cost[index]),
        "mdp_decision": block.mdp[index].copy(),
        # Read-only views: Slots' arrays cannot be written, so they need no copy.
        "edge_bandwidths": block.realised.edge_bandwidths[index],
        "cloud_bandwidths": block.realised.cloud_bandwidths[index],
        "attempts": block.realised.attempts[index],
    }
