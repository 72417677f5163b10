"""Frames of ``MecOffloadDag-v0``: a task's schedule so far, as a text table or a picture."""

from __future__ import annotations

import numpy as np

from gym_mecoffload.core.checks import GIGA
from gym_mecoffload.core.rendering import (
    BACKGROUND,
    CURSOR,
    LEFT,
    WIDTH,
    Segment,
    draw_panel,
    draw_text,
)
from gym_mecoffload.core.topology import DEVICE_EDGE_CLOUD, PLACES
from gym_mecoffload.dag.model import DagBatch, ScheduleOne

HEIGHT = 240  # a multiple of 16, as video encoders prefer


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
    *,
    contention: bool,
    expert: np.ndarray | None,
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
    return _frame(dag, order, placed, places, end, title, contention, expert)


def schedule_segments(
    dag: DagBatch, order: list[int], places: np.ndarray, *, contention: bool
) -> list[Segment]:
    """The bars of a schedule: subtasks ``order`` (placed one after another) at
    ``places``, replayed on the single-task schedule with every run and hop recorded."""
    schedule = ScheduleOne(dag, contention=contention)
    log: list[tuple[str, int, float, float]] = []
    schedule.timeline.record = log
    segments = []
    for v in order:
        first = len(log)
        schedule.add(v, int(places[v]))
        for kind, where, start, stop in log[first:]:
            # A link's bar goes on the row between its two places (0 device-edge, 1 edge-cloud).
            row = where if kind == "run" else min(DEVICE_EDGE_CLOUD.links[where])
            segments.append(Segment(kind, row, start, stop, v))
    return segments


def _frame(
    dag: DagBatch,
    order: np.ndarray,
    placed: list[int],
    places: np.ndarray,
    end: float,
    title: str,
    contention: bool,
    expert: np.ndarray | None,
) -> np.ndarray:
    """The agent's schedule so far above the expert's, on one time axis, and the
    current subtask with its parents (framed in red in the agent's lanes)."""
    n = dag.n_subtasks
    agent = schedule_segments(dag, placed, places, contention=contention)
    best = (
        schedule_segments(dag, order.tolist(), expert, contention=contention)
        if expert is not None
        else []
    )
    best_end = max((segment.end for segment in best), default=0.0)
    span = max(end, best_end)
    scale = (WIDTH - 6 - LEFT) / span if span > 0 else 0.0
    image = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    current = int(order[len(placed)]) if len(placed) < n else None
    parents = (
        frozenset(np.flatnonzero(dag.edges[0, :, current]).tolist())
        if current is not None
        else frozenset()
    )
    notes = ("cpu", "cpu", "")
    bottom = draw_panel(
        image,
        4,
        f"{title}: agent {end:.3f} s, {len(placed)} of {n} placed",
        agent,
        scale,
        cursor=True,
        lane_notes=notes,
        marked=parents,
    )
    expert_title = (
        f"expert {best_end:.3f} s" if expert is not None else "expert: none (optimum='none')"
    )
    bottom = draw_panel(image, bottom + 8, expert_title, best, scale, False, lane_notes=notes)
    if current is not None:
        listed = " ".join(str(u) for u in sorted(parents)) or "none: reads the task's input"
        draw_text(image, 6, bottom + 8, f"next {current}, parents: {listed}", CURSOR)
    return image
