"""Pictures of an episode: a text table (``"ansi"``) and a timeline (``"rgb_array"``).

Both show the agent's decision so far beside the exact optimum's, in latency
(seconds) whatever the objective, since latency is what a timeline can show.
Drawn with numpy alone, so the env package needs nothing else.
"""

from __future__ import annotations

import numpy as np

from gym_mecoffload.chain.model import TaskBatch, stage_costs_one
from gym_mecoffload.core.checks import GIGA, MEGA
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.rendering import (
    BACKGROUND,
    LEFT,
    WIDTH,
    Segment,
    draw_panel,
)
from gym_mecoffload.core.topology import DEVICE, PLACES

HEIGHT = 256  # a multiple of 16, as video encoders prefer


def _hops(source: int, target: int) -> list[int]:
    """The links (0 device-edge, 1 edge-cloud) that data crosses from ``source`` to ``target``."""
    low, high = sorted((source, target))
    hops = list(range(low, high))
    return hops if source <= target else hops[::-1]


def _slot_hops(task: TaskBatch, slots: Slots | None) -> list[tuple[float, float, int]]:
    """Per slot: seconds per byte on the device-edge and edge-cloud links, and attempts."""
    if slots is None:  # the paper's channel: the task's own bandwidths for every transfer
        b1, b2 = float(task.edge_bandwidth[0]), float(task.cloud_bandwidth[0])
        return [(1.0 / b1, 1.0 / b2, 1)] * (task.n_subtasks + 1)
    return [
        (1.0 / b1, 1.0 / b2, a)
        for b1, b2, a in zip(
            slots.edge_bandwidths[0].tolist(),
            slots.cloud_bandwidths[0].tolist(),
            slots.attempts[0].tolist(),
            strict=True,
        )
    ]


def _send_seconds(hops: tuple[float, float, int], amount: float, source: int, target: int) -> float:
    """Seconds to move ``amount`` bytes in a slot, every attempt included."""
    per_byte = 0.0
    for link in _hops(source, target):
        per_byte += hops[link]
    return amount * hops[2] * per_byte


def timeline(
    task: TaskBatch, places: list[int] | np.ndarray, slots: Slots | None = None
) -> list[Segment]:
    """The bars of a (possibly partial) decision: transfers, executions and the output's return,
    on the realised ``slots`` of a fluctuating channel if given (one task's)."""
    run, _, data = stage_costs_one(task, "latency")
    hops = _slot_hops(task, slots)
    n, clock, previous, segments = len(run), 0.0, DEVICE, []

    def send(slot: int, source: int, target: int) -> None:
        nonlocal clock
        for link in _hops(source, target):
            end = clock + data[slot] * hops[slot][2] * hops[slot][link]
            segments.append(Segment("send", link, clock, end, slot))
            clock = end

    for t, place in enumerate(int(p) for p in places):
        send(t, previous, place)
        segments.append(Segment("run", place, clock, clock + run[t][place], t))
        clock, previous = clock + run[t][place], place
    if len(places) == n:
        send(n, previous, DEVICE)
    return segments


def _latency_rows(
    task: TaskBatch, places: list[int] | np.ndarray, slots: Slots | None = None
) -> list[tuple[float, float]]:
    """(transfer, execution) seconds per placed subtask, then the output's return."""
    run, _, data = stage_costs_one(task, "latency")
    hops = _slot_hops(task, slots)
    rows, previous = [], DEVICE
    for t, place in enumerate(int(p) for p in places):
        rows.append((_send_seconds(hops[t], data[t], previous, place), run[t][place]))
        previous = place
    if len(places) == len(run):
        rows.append((_send_seconds(hops[-1], data[-1], previous, DEVICE), 0.0))
    return rows


def render_ansi(
    task: TaskBatch,
    places: list[int] | np.ndarray,
    optimum: np.ndarray,
    title: str,
    slots: Slots | None = None,
) -> str:
    """A text table of the task so far: per subtask its place, transfer and execution time,
    the running latency, and the optimum's decision and running latency (seconds); on the
    realised ``slots`` of a fluctuating channel if given (b1 and b2 then are slot 0's)."""
    n = task.n_subtasks
    agent = _latency_rows(task, places, slots)
    best = _latency_rows(task, optimum, slots)
    lines = [
        f"{title}: {len(places)} of {n} subtasks placed",
        f"p1 {task.device_hz[0] / GIGA:.3f} GHz  p2 {task.edge_hz[0] / GIGA:.3f} GHz  "
        f"b1 {task.edge_bandwidth[0] / MEGA:.3f} MB/s  b2 {task.cloud_bandwidth[0] / MEGA:.3f} MB/s",
        f"{'subtask':>7} {'Gcycles':>8} {'in MB':>7} | {'place':>6} {'send s':>9} {'run s':>9} "
        f"{'latency s':>10} | {'optimum':>7} {'latency s':>10}",
    ]
    so_far = best_so_far = 0.0
    for t in range(n + 1):
        label = "output" if t == n else str(t)
        cycles = "" if t == n else f"{task.cycles[0, t] / GIGA:8.3f}"
        row = f"{label:>7} {cycles:>8} {task.data[0, t] / MEGA:7.3f} | "
        if t < len(agent):
            send, run = agent[t]
            so_far += send + run
            place = "device" if t == n else PLACES[int(places[t])]
            row += f"{place:>6} {send:9.3f} {'' if t == n else f'{run:9.3f}':>9} {so_far:10.3f} | "
        else:
            row += f"{'-':>6} {'':9} {'':9} {'':10} | "
        send, run = best[t]
        best_so_far += send + run
        place = "device" if t == n else PLACES[int(optimum[t])]
        lines.append(row + f"{place:>7} {best_so_far:10.3f}")
    return "\n".join(lines) + "\n"


def render_rgb(
    task: TaskBatch,
    places: list[int] | np.ndarray,
    optimum: np.ndarray,
    slots: Slots | None = None,
) -> np.ndarray:
    """A (HEIGHT, WIDTH, 3) uint8 timeline: the agent's decision so far above the optimum's.

    One lane per place with its execution bars (numbered by subtask), grey
    transfer bars on the device-edge and edge-cloud links between the lanes,
    one time axis (seconds) for both, and a red cursor where the agent is.
    """
    agent, best = timeline(task, places, slots), timeline(task, optimum, slots)
    agent_end = agent[-1].end if agent else 0.0
    span = max(agent_end, best[-1].end if best else 0.0)
    scale = (WIDTH - 6 - LEFT) / span if span > 0 else 0.0
    image = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    draw_panel(image, 4, f"agent {agent_end:.2f} s", agent, scale, cursor=True)
    draw_panel(image, 130, f"optimum {best[-1].end if best else 0.0:.2f} s", best, scale, False)
    return image
