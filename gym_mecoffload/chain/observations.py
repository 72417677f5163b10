"""The chain's observations: the requirement S (``MecOffloadOneShot-v0``) and
``MecOffload-v0``'s sequential layout, built and decoded here and nowhere else.

The observation of a task of ``n`` subtasks is ``3n + 8`` float32 entries:

* ``[0, 2n + 5)``: the task's requirement S (:func:`features`,
  engineering units: Gcycles, MB, GHz, MB/s); under a fluctuating channel its two
  bandwidths ``[2n + 3, 2n + 5)`` are the current slot's (SPEC-CHANNELS);
* ``[2n + 5, 3n + 5)``: one-hot index of the current subtask (all zero once the
  task is done);
* ``[3n + 5, 3n + 8)``: one-hot place of the previous subtask (the device before
  the first).

The single env, the vector env, the DP expert and the baselines' networks all
go through :class:`SequentialLayout`. ``MecOffloadOneShot-v0`` observes S alone
(:func:`features`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gym_mecoffload.chain.model import TaskBatch, require_batch
from gym_mecoffload.core.checks import GIGA, MEGA, check_count, check_indices
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.topology import DEVICE, N_PLACES


def features(batch: TaskBatch) -> np.ndarray:
    """The paper's input vector S for each task, float32, in engineering units.

    Columns: ``cycles`` (n, Gcycles), ``data`` (n + 1, MB), ``device_hz`` (GHz),
    ``edge_hz`` (GHz), ``edge_bandwidth`` (MB/s), ``cloud_bandwidth`` (MB/s):
    ``2n + 5`` columns in all (17 for the paper's n = 6).
    """
    require_batch(batch)
    columns = [
        batch.cycles / GIGA,
        batch.data / MEGA,
        batch.device_hz[:, None] / GIGA,
        batch.edge_hz[:, None] / GIGA,
        batch.edge_bandwidth[:, None] / MEGA,
        batch.cloud_bandwidth[:, None] / MEGA,
    ]
    return np.concatenate(columns, axis=1).astype(np.float32)


def observed_bandwidths(edge_bandwidth: np.ndarray, cloud_bandwidth: np.ndarray) -> np.ndarray:
    """Bandwidths (bytes/s) as an observation holds them: (..., 2) float32 MB/s, b1 then b2,
    converted as :func:`features` converts a task's."""
    return np.stack([edge_bandwidth / MEGA, cloud_bandwidth / MEGA], axis=-1).astype(np.float32)


def slot_features(slots: Slots) -> np.ndarray:
    """Each slot's bandwidths as the observation holds them: (N, n + 1, 2) float32 MB/s."""
    return observed_bandwidths(slots.edge_bandwidths, slots.cloud_bandwidths)


def n_features(n_subtasks: int) -> int:
    """Length of :func:`features` rows for tasks of ``n_subtasks`` subtasks."""
    return 2 * n_subtasks + 5


@dataclass(frozen=True)
class SequentialLayout:
    """Where each part of ``MecOffload-v0``'s observation sits, for ``n_subtasks`` subtasks.

    Attributes (plain ints, looked up on every env step):
        n_task_features: width of S, ``2n + 5``.
        bandwidth_offset: index of b1, followed by b2 (MB/s): the current slot's.
        step_offset: index of the one-hot entry of subtask 0.
        previous_offset: index of the one-hot entry of the device as the previous place.
        size: entries per observation, ``3n + 8``.
    """

    n_subtasks: int
    n_task_features: int = field(init=False)
    bandwidth_offset: int = field(init=False)
    step_offset: int = field(init=False)
    previous_offset: int = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        n = check_count("n_subtasks", self.n_subtasks, 1)
        width = n_features(n)
        for name, value in (
            ("n_subtasks", n),
            ("n_task_features", width),
            ("bandwidth_offset", width - 2),
            ("step_offset", width),
            ("previous_offset", width + n),
            ("size", width + n + N_PLACES),
        ):
            object.__setattr__(self, name, value)

    def first(self, task_features: np.ndarray) -> np.ndarray:
        """The first observation (subtask 0, the device before it) of one task's S (2n + 5,).

        :meth:`build` for a single row, without its checks: the env's reset path.
        """
        observation = np.zeros(self.size, dtype=np.float32)
        observation[: self.n_task_features] = task_features
        observation[self.step_offset] = 1.0
        observation[self.previous_offset + DEVICE] = 1.0
        return observation

    def advance(
        self,
        observation: np.ndarray,
        step: int,
        previous_place: np.ndarray | int,
        place: np.ndarray | int,
        bandwidths: np.ndarray | None = None,
    ) -> None:
        """Move ``observation`` in place from subtask ``step`` (the one before it at
        ``previous_place``) to the next subtask, with subtask ``step`` now at ``place``:
        :meth:`build`'s vector for the next step, at the cost of four writes.

        One observation (size,) with int places, or a batch (N, size) with (N,) places.
        ``bandwidths``: the next slot's b1 and b2 (MB/s, (2,) or (N, 2)) under a
        fluctuating channel; None keeps them.
        """
        if bandwidths is not None:
            observation[..., self.bandwidth_offset : self.n_task_features] = bandwidths
        if observation.ndim == 1:  # one env's step: plain scalar writes, the cheapest
            observation[self.step_offset + step] = 0.0
            if step + 1 < self.n_subtasks:
                observation[self.step_offset + step + 1] = 1.0
            observation[self.previous_offset + previous_place] = 0.0
            observation[self.previous_offset + place] = 1.0
            return
        rows = np.arange(len(observation))
        observation[:, self.step_offset + step] = 0.0
        if step + 1 < self.n_subtasks:
            observation[:, self.step_offset + step + 1] = 1.0
        observation[rows, self.previous_offset + previous_place] = 0.0
        observation[rows, self.previous_offset + place] = 1.0

    def build(
        self,
        task_features: np.ndarray,
        step: np.ndarray | int,
        previous_place: np.ndarray | int,
        bandwidths: np.ndarray | None = None,
    ) -> np.ndarray:
        """Observations (N, 3n + 8) float32 from S (N, 2n + 5) and the step and previous place.

        ``step`` and ``previous_place`` are scalars or (N,) integer arrays; a step
        equal to n (the task is done) leaves the subtask one-hot all zero.
        ``bandwidths`` (N, 2), MB/s: the current slot's b1 and b2, in place of S's.
        """
        task_features = np.asarray(task_features, dtype=np.float32)
        if task_features.ndim != 2 or task_features.shape[1] != self.n_task_features:
            raise ValueError(
                f"task_features must have shape (N, {self.n_task_features}) for "
                f"{self.n_subtasks} subtasks; got {task_features.shape}"
            )
        size = len(task_features)
        step = check_indices(
            "step", step, size, self.n_subtasks + 1, "subtask indices (n once the task is done)"
        ).astype(np.intp)
        previous_place = check_indices(
            "previous_place", previous_place, size, N_PLACES, "places 0, 1 or 2"
        ).astype(np.intp)
        observations = np.zeros((size, self.size), dtype=np.float32)
        observations[:, : self.n_task_features] = task_features
        if bandwidths is not None:
            bandwidths = np.asarray(bandwidths, dtype=np.float32)
            if bandwidths.shape != (size, 2):
                raise ValueError(f"bandwidths must have shape ({size}, 2); got {bandwidths.shape}")
            observations[:, self.bandwidth_offset : self.n_task_features] = bandwidths
        rows = np.arange(size)
        running = step < self.n_subtasks
        observations[rows[running], self.step_offset + step[running]] = 1.0
        observations[rows, self.previous_offset + previous_place] = 1.0
        return observations

    def decode(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The inverse of :meth:`build`: S (N, 2n + 5), step (N,) and previous place (N,).

        A step one-hot that is all zero decodes as n (the task is done).
        """
        observations = np.asarray(observations)
        if observations.ndim != 2 or observations.shape[1] != self.size:
            raise ValueError(
                f"observations must have shape (N, {self.size}) for {self.n_subtasks} "
                f"subtasks; got {observations.shape}"
            )
        step_block = observations[:, self.step_offset : self.previous_offset]
        step = np.where(step_block.any(axis=1), step_block.argmax(axis=1), self.n_subtasks)
        previous = observations[:, self.previous_offset :].argmax(axis=1)
        return observations[:, : self.n_task_features], step, previous


def sequential_observations(
    task_features: np.ndarray, step: np.ndarray | int, previous_place: np.ndarray | int
) -> np.ndarray:
    """``MecOffload-v0`` observations for a batch: :meth:`SequentialLayout.build`, n from S's width."""
    width = np.shape(task_features)[-1]
    if (width - 5) % 2 or width < 7:
        raise ValueError(f"task_features must have 2n + 5 columns with n >= 1; got {width}")
    return SequentialLayout((width - 5) // 2).build(task_features, step, previous_place)
