"""Frames of ``MecOffloadDag-v0``: a task's schedule so far, as a text table or a picture."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gym_mecoffload.core.checks import GIGA
from gym_mecoffload.core.topology import N_PLACES, PLACES

if TYPE_CHECKING:
    from gym_mecoffload.dag.episodes import DagEpisodes


def render_schedule(episodes: DagEpisodes, i: int, mode: str, title: str) -> str | np.ndarray:
    """One task's schedule so far: a text table in priority order, or a picture of its
    executions on one lane per place."""
    schedule, dags = episodes.schedule, episodes.dags
    order = episodes.order[i]
    placed = [int(v) for v in order[: episodes.step_index]]
    if mode == "ansi":
        lines = [
            f"{title}: {len(placed)} of {dags.n_subtasks} subtasks placed, "
            f"partial makespan {schedule.end[i]:.3f} s, energy {schedule.energy[i]:.3f} J",
            f"{'subtask':>7} {'Gcycles':>8} {'parents':>12} | {'place':>6} {'finish s':>9}",
        ]
        for v in order:
            parents = ",".join(str(u) for u in np.flatnonzero(dags.edges[i, :, v])) or "-"
            row = f"{v:>7} {dags.cycles[i, v] / GIGA:8.3f} {parents:>12} | "
            if v in placed:
                row += f"{PLACES[schedule.places[i, v]]:>6} {schedule.finish[i, v]:9.3f}"
            else:
                row += f"{'-':>6} {'':>9}"
            lines.append(row)
        return "\n".join(lines) + "\n"
    height, width, left = 160, 640, 60
    image = np.full((height, width, 3), 250, dtype=np.uint8)
    span = max(float(schedule.end[i]), 1e-12)
    scale = (width - left - 8) / span
    colours = np.array([[59, 117, 175], [229, 135, 74], [96, 170, 96]], dtype=np.uint8)
    run = schedule.run[i]
    for v in placed:
        place = int(schedule.places[i, v])
        end = schedule.finish[i, v]
        start = end - run[v, place]
        x0, x1 = (
            int(left + start * scale),
            max(int(left + end * scale), int(left + start * scale) + 1),
        )
        top = 20 + place * 45
        image[top : top + 30, x0:x1] = colours[place]
    for place in range(N_PLACES):  # lane guides
        image[20 + place * 45 + 32, left:] = 200
    return image
