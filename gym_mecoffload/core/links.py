"""Link realisations: the bandwidths each transfer slot of a task meets, and its attempts
(SPEC-CHANNELS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gym_mecoffload.core.checks import FieldBatch, check_representable, first_bad, real_array

SLOT_FIELDS = ("edge_bandwidths", "cloud_bandwidths", "attempts")  # Slots' fields, in order


@dataclass(frozen=True)
class Slots(FieldBatch):
    """A fluctuating channel's realisation for a batch of N tasks of n subtasks (SPEC-CHANNELS).

    Slot k < n carries ``data[k]`` into subtask k; slot n carries the output back
    to the device. Validated on construction like :class:`TaskBatch`.

    Attributes:
        edge_bandwidths: (N, n + 1) device <-> edge bandwidth of each slot, bytes/s (> 0).
        cloud_bandwidths: (N, n + 1) edge <-> cloud bandwidth of each slot, bytes/s (> 0).
        attempts: (N, n + 1) transfer attempts of each slot (integers >= 1): an
            unreliable link repeats a failed transfer in full.
    """

    edge_bandwidths: np.ndarray
    cloud_bandwidths: np.ndarray
    attempts: np.ndarray

    FIELDS = SLOT_FIELDS

    def __post_init__(self) -> None:
        edge = real_array("edge_bandwidths", self.edge_bandwidths, "bytes/s")
        if edge.ndim != 2 or edge.shape[1] < 2:
            raise ValueError(
                f"edge_bandwidths must have shape (N, n + 1) with n >= 1; got {edge.shape}"
            )
        cloud = real_array("cloud_bandwidths", self.cloud_bandwidths, "bytes/s")
        attempts = np.asarray(self.attempts)
        for name, array in (("cloud_bandwidths", cloud), ("attempts", attempts)):
            if array.shape != edge.shape:
                raise ValueError(
                    f"{name} must have the shape of edge_bandwidths, {edge.shape}; got {array.shape}"
                )
        for name, array in (("edge_bandwidths", edge), ("cloud_bandwidths", cloud)):
            bad = ~(array > 0) | ~np.isfinite(array)
            if bad.any():
                raise ValueError(
                    f"{name} must be finite and > 0 (bytes/s); got {first_bad(array, bad)}"
                )
            check_representable(name.removesuffix("s"), array, name)
        if attempts.dtype == bool or not np.issubdtype(attempts.dtype, np.integer):
            raise ValueError(f"attempts must be integers >= 1; got dtype {attempts.dtype}")
        if attempts.size and attempts.min() < 1:
            raise ValueError(
                f"attempts must be integers >= 1; got {first_bad(attempts, attempts < 1)}"
            )
        # Checked in their own dtype: an unsigned 2**64 - 1 would wrap to -1 as an int64.
        too_many = attempts > np.iinfo(np.int64).max
        if too_many.any():
            raise ValueError(
                f"attempts must be at most {np.iinfo(np.int64).max} (an int64); "
                f"got {first_bad(attempts, too_many)}"
            )
        for name, array in (
            ("edge_bandwidths", edge),
            ("cloud_bandwidths", cloud),
            ("attempts", attempts.astype(np.int64)),
        ):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @classmethod
    def fixed(cls, batch: Any) -> Slots:
        """The paper's channel: every slot at the task's own bandwidths, one attempt each."""
        shape = (batch.n_tasks, batch.n_subtasks + 1)
        return cls(
            np.broadcast_to(batch.edge_bandwidth[:, None], shape).copy(),
            np.broadcast_to(batch.cloud_bandwidth[:, None], shape).copy(),
            np.ones(shape, dtype=np.int64),
        )

    @classmethod
    def realised(cls, batch: Any, slots: Slots | None) -> Slots:
        """``slots``, or on the paper's static, reliable channel (None, its one
        representation) every slot at the tasks' own bandwidths, once: for what needs
        each slot spelled out (a rollout slot by slot, a report)."""
        return cls.fixed(batch) if slots is None else slots

    def check_against(self, batch: Any) -> None:
        """A ValueError unless these slots fit ``batch`` (N tasks of n subtasks: (N, n + 1))."""
        expected = (batch.n_tasks, batch.n_subtasks + 1)
        if self.attempts.shape != expected:
            raise ValueError(
                f"slots must have shape (N, n + 1) = {expected} for this batch; "
                f"got {self.attempts.shape}"
            )
