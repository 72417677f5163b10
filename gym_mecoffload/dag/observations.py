"""``MecOffloadDag-v0``'s observation layout: built here and nowhere else.

For graphs of up to ``n`` subtasks (smaller ones are padded with empty subtasks,
:func:`~gym_mecoffload.dag.episodes.pad_dags`), an observation is ``n**2 + 10n + 20``
float32 entries, in this order:

| entries | content | unit |
|---|---|---|
| n | cycles of each subtask | Gcycles |
| n | input bytes each subtask reads from the device | MB |
| n | output bytes each subtask returns to the device | MB |
| n * n | ``edge_data[u, v]``, row by row (0 off the edges) | MB |
| 3n | one-hot place of each subtask placed so far (all zero if not yet) | - |
| n | one-hot current subtask (all zero once done) | - |
| n | finish time of each subtask placed so far | s |
| 6 | when each resource is next free: links device->edge, edge->cloud, cloud->edge, edge->device, then the device and edge CPUs (0 without contention) | s |
| 1 | partial makespan | s |
| 4 | device_hz, edge_hz (GHz), edge_bandwidth, cloud_bandwidth (MB/s) | - |
| 3 | the current subtask's cycles (Gcycles), input and output (MB) | - |
| n | ``edge_data[:, current]``: what it receives from each subtask (MB), aligned with the places and finish times above | MB |
| n | ``edge_data[current, :]``: what it sends to each subtask | MB |
| 3 | its earliest finish time at each place (HEFT's figure), given the schedule so far | s |
| 3 | the partial makespan if it goes to each place | s |

The last block (2n + 9 entries) repeats, for the current subtask, what the
matrix above holds, plus the schedule's answer to "what if it goes there": a
network would otherwise have to find the current subtask's row and column
itself. It is all zero once the task is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gym_mecoffload.core.checks import GIGA, MEGA, check_count
from gym_mecoffload.core.topology import N_PLACES
from gym_mecoffload.dag.model import DagBatch, Schedule, ScheduleOne


@dataclass(frozen=True)
class DagLayout:
    """Where each part of the observation sits, for graphs of ``n_subtasks`` subtasks."""

    n_subtasks: int
    places_offset: int = field(init=False)
    current_offset: int = field(init=False)
    finish_offset: int = field(init=False)
    resources_offset: int = field(init=False)
    makespan_offset: int = field(init=False)
    platform_offset: int = field(init=False)
    current_view_offset: int = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        n = check_count("n_subtasks", self.n_subtasks, 1)
        offsets = {"places_offset": 3 * n + n * n}
        offsets["current_offset"] = offsets["places_offset"] + N_PLACES * n
        offsets["finish_offset"] = offsets["current_offset"] + n
        offsets["resources_offset"] = offsets["finish_offset"] + n
        offsets["makespan_offset"] = offsets["resources_offset"] + 6
        offsets["platform_offset"] = offsets["makespan_offset"] + 1
        offsets["current_view_offset"] = offsets["platform_offset"] + 4
        offsets["size"] = offsets["current_view_offset"] + 2 * n + 9
        for name, value in offsets.items():
            object.__setattr__(self, name, value)

    def static_part(self, dags: DagBatch) -> np.ndarray:
        """The entries that do not change during an episode, (N, size) float32."""
        size, n = dags.n_tasks, dags.n_subtasks
        observation = np.zeros((size, self.size), dtype=np.float32)
        observation[:, :n] = dags.cycles / GIGA
        observation[:, n : 2 * n] = dags.input_data / MEGA
        observation[:, 2 * n : 3 * n] = dags.output_data / MEGA
        observation[:, 3 * n : self.places_offset] = dags.edge_data.reshape(size, -1) / MEGA
        observation[:, self.platform_offset : self.current_view_offset] = np.stack(
            [
                dags.device_hz / GIGA,
                dags.edge_hz / GIGA,
                dags.edge_bandwidth / MEGA,
                dags.cloud_bandwidth / MEGA,
            ],
            axis=1,
        )
        return observation

    def current_rows(self, dags: DagBatch) -> np.ndarray:
        """The current-subtask view's first 2n + 3 entries for each subtask as the current
        one, (N, n, 2n + 3) float32: its cycles, input and output, then its column and row
        of the edge-data matrix."""
        size, n = dags.n_tasks, dags.n_subtasks
        rows = np.empty((size, n, 2 * n + 3), dtype=np.float32)
        rows[:, :, 0] = dags.cycles / GIGA
        rows[:, :, 1] = dags.input_data / MEGA
        rows[:, :, 2] = dags.output_data / MEGA
        rows[:, :, 3 : 3 + n] = np.swapaxes(dags.edge_data, 1, 2) / MEGA
        rows[:, :, 3 + n :] = dags.edge_data / MEGA
        return rows

    def start_one(
        self, observation: np.ndarray, schedule: ScheduleOne, views: np.ndarray, current: int
    ) -> None:
        """:meth:`fill` for one task at its start: ``observation`` (size,) holds the static
        part; ``views`` are its :meth:`current_rows` (n, 2n + 3)."""
        observation[self.current_offset + current] = 1.0
        self._show_current_one(observation, schedule, views, current)

    def advance_one(
        self,
        observation: np.ndarray,
        schedule: ScheduleOne,
        views: np.ndarray,
        placed: int,
        current: int | None,
    ) -> None:
        """:meth:`advance` for one task, entry by entry."""
        observation[self.places_offset + N_PLACES * placed + schedule.places[placed]] = 1.0
        observation[self.current_offset + placed] = 0.0
        observation[self.finish_offset + placed] = schedule.finish[placed]
        timeline = schedule.timeline
        if timeline.links is not None:
            observation[self.resources_offset : self.resources_offset + 4] = timeline.links
            observation[self.resources_offset + 4 : self.makespan_offset] = timeline.cpus[:2]
        observation[self.makespan_offset] = schedule.end
        if current is None:
            observation[self.current_view_offset :] = 0.0
            return
        observation[self.current_offset + current] = 1.0
        self._show_current_one(observation, schedule, views, current)

    def _show_current_one(
        self, observation: np.ndarray, schedule: ScheduleOne, views: np.ndarray, current: int
    ) -> None:
        start = self.current_view_offset
        middle = start + 2 * self.n_subtasks + 3
        observation[start:middle] = views[current]
        finish, end = schedule.options(current)
        observation[middle : middle + 3] = finish
        observation[middle + 3 : middle + 6] = end

    def fill(
        self,
        observation: np.ndarray,
        schedule: Schedule,
        views: np.ndarray,
        current: np.ndarray | None,
    ) -> np.ndarray:
        """Write the schedule's state and the current subtasks (N,) (None once done) into
        ``observation`` (N, size), in place (``views``: the tasks' :meth:`current_rows`);
        returns it."""
        n, size = self.n_subtasks, len(observation)
        placed = schedule.places >= 0
        one_hot = np.zeros((size, n, N_PLACES), dtype=np.float32)
        rows, columns = np.nonzero(placed)
        one_hot[rows, columns, schedule.places[rows, columns]] = 1.0
        observation[:, self.places_offset : self.current_offset] = one_hot.reshape(size, -1)
        observation[:, self.current_offset : self.finish_offset] = 0.0
        if current is not None:
            observation[np.arange(size), self.current_offset + current] = 1.0
        observation[:, self.finish_offset : self.resources_offset] = np.where(
            placed, schedule.finish, 0.0
        )
        self._show_state(observation, schedule)
        self._show_current(observation, schedule, views, current)
        return observation

    def advance(
        self,
        observation: np.ndarray,
        schedule: Schedule,
        views: np.ndarray,
        placed: np.ndarray,
        current: np.ndarray | None,
    ) -> None:
        """Update ``observation`` (N, size) in place after subtasks ``placed`` (N,) joined
        ``schedule``, with the next ``current`` subtasks (None once done): only what
        changed is written, to the values :meth:`fill` would write."""
        tasks = schedule.rows[: len(observation)]
        places = schedule.places[tasks, placed]
        observation[tasks, self.places_offset + N_PLACES * placed + places] = 1.0
        observation[tasks, self.current_offset + placed] = 0.0
        if current is not None:
            observation[tasks, self.current_offset + current] = 1.0
        observation[tasks, self.finish_offset + placed] = schedule.finish[tasks, placed]
        self._show_state(observation, schedule)
        self._show_current(observation, schedule, views, current)

    def _show_state(self, observation: np.ndarray, schedule: Schedule) -> None:
        if schedule.links is not None:
            observation[:, self.resources_offset : self.resources_offset + 4] = schedule.links
            observation[:, self.resources_offset + 4 : self.makespan_offset] = schedule.cpus[:, :2]
        observation[:, self.makespan_offset] = schedule.end

    def _show_current(
        self,
        observation: np.ndarray,
        schedule: Schedule,
        views: np.ndarray,
        current: np.ndarray | None,
    ) -> None:
        view = observation[:, self.current_view_offset :]
        if current is None:
            view[:] = 0.0
            return
        middle = 2 * self.n_subtasks + 3
        view[:, :middle] = views[schedule.rows[: len(observation)], current]
        finish, end = schedule.options(current)
        view[:, middle : middle + 3] = finish
        view[:, middle + 3 : middle + 6] = end
