"""Frames of ``MecOffloadDag-v0``: a task's schedule so far, as a text table or a picture."""

from __future__ import annotations

import numpy as np

from gym_mecoffload.core.checks import GIGA
from gym_mecoffload.core.topology import N_PLACES, PLACES
from gym_mecoffload.dag.model import DagBatch, run_seconds


def render_schedule(
    dag: DagBatch,
    order: np.ndarray,
    n_placed: int,
    places: np.ndarray,
    finish: np.ndarray,
    end: float,
    energy: float,
    mode: str,
    title: str,
) -> str | np.ndarray:
    """One task's schedule so far (``dag`` a batch of one; its priority ``order`` (n,), of
    which ``n_placed`` are placed at ``places`` (n,), finishing at ``finish`` (n,) seconds;
    the partial makespan ``end`` in seconds, ``energy`` in joules): a text table in
    priority order, or a picture of its executions on one lane per place."""
    placed = [int(v) for v in order[:n_placed]]
    if mode == "ansi":
        lines = [
            f"{title}: {len(placed)} of {dag.n_subtasks} subtasks placed, "
            f"partial makespan {end:.3f} s, energy {energy:.3f} J",
            f"{'subtask':>7} {'Gcycles':>8} {'parents':>12} | {'place':>6} {'finish s':>9}",
        ]
        for v in order.tolist():
            parents = ",".join(str(u) for u in np.flatnonzero(dag.edges[0, :, v])) or "-"
            row = f"{v:>7} {dag.cycles[0, v] / GIGA:8.3f} {parents:>12} | "
            if v in placed:
                row += f"{PLACES[places[v]]:>6} {finish[v]:9.3f}"
            else:
                row += f"{'-':>6} {'':>9}"
            lines.append(row)
        return "\n".join(lines) + "\n"
    height, width, left = 160, 640, 60
    image = np.full((height, width, 3), 250, dtype=np.uint8)
    span = max(float(end), 1e-12)
    scale = (width - left - 8) / span
    colours = np.array([[59, 117, 175], [229, 135, 74], [96, 170, 96]], dtype=np.uint8)
    run = run_seconds(dag)[0]
    for v in placed:
        place = int(places[v])
        stop = finish[v]
        start = stop - run[v, place]
        x0, x1 = (
            int(left + start * scale),
            max(int(left + stop * scale), int(left + start * scale) + 1),
        )
        top = 20 + place * 45
        image[top : top + 30, x0:x1] = colours[place]
    for place in range(N_PLACES):  # lane guides
        image[20 + place * 45 + 32, left:] = 200
    return image
