"""Pictures of an episode: a text table (``"ansi"``) and a timeline (``"rgb_array"``).

Both show the agent's decision so far beside the exact optimum's, in latency
(seconds) whatever the objective, since latency is what a timeline can show.
Drawn with numpy alone, so the env package needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gym_mecoffload.chain.model import TaskBatch, stage_costs_one
from gym_mecoffload.core.checks import GIGA, MEGA
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.topology import CLOUD, DEVICE, EDGE, PLACES

WIDTH, HEIGHT = 640, 256  # multiples of 16, as video encoders prefer

_BACKGROUND = (255, 255, 255)
_LANE = (238, 238, 238)
_INK = (33, 33, 33)
_TRANSFER = (120, 120, 120)
_CURSOR = (211, 47, 47)
_PLACE_COLOURS = ((30, 136, 229), (251, 140, 0), (67, 160, 71))  # device, edge, cloud

# A 3 x 5 bitmap font, one string of 15 bits per glyph, row by row.
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001010010010", "8": "111101111101111",
    "9": "111101111001111", ".": "000000000000010", " ": "000000000000000",
    "-": "000000111000000", ":": "000010000010000", "/": "001001010100100",
    "A": "010101111101101", "C": "011100100100011", "D": "110101101101110",
    "E": "111100110100111", "G": "011100101101011", "I": "111010010010111",
    "L": "100100100100111", "M": "101111111101101", "N": "110101101101101",
    "O": "010101101101010", "P": "110101110100100", "S": "011100010001110",
    "T": "111010010010010", "U": "101101101101111", "V": "101101101101010",
    "F": "111100110100100", "H": "101101111101101", "R": "110101110101101",
}  # fmt: skip


@dataclass(frozen=True)
class Segment:
    """One bar of a timeline: an execution on a place, or a transfer over a link."""

    kind: str  # "run" or "send"
    row: int  # place (DEVICE, EDGE, CLOUD) for "run"; link 0 (device-edge) or 1 (edge-cloud)
    start: float  # seconds
    end: float
    subtask: int  # n for the output's return


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


def _fill(image: np.ndarray, x0: float, x1: float, y0: int, y1: int, colour) -> None:
    left, right = int(round(x0)), max(int(round(x1)), int(round(x0)) + 1)
    image[y0:y1, max(left, 0) : min(right, image.shape[1])] = colour


def _text(image: np.ndarray, x: int, y: int, text: str, colour, scale: int = 2) -> None:
    for character in text.upper():
        bits = _GLYPHS.get(character, _GLYPHS[" "])
        glyph = np.array([int(b) for b in bits], dtype=bool).reshape(5, 3)
        glyph = glyph.repeat(scale, axis=0).repeat(scale, axis=1)
        patch = image[y : y + glyph.shape[0], x : x + glyph.shape[1]]
        patch[glyph[: patch.shape[0], : patch.shape[1]]] = colour
        x += 4 * scale


_LEFT = 84  # pixels of lane labels
_LANE_HEIGHT, _LINK_HEIGHT = 22, 8


def _panel(
    image: np.ndarray, top: int, title: str, segments: list[Segment], scale: float, cursor: bool
) -> None:
    _text(image, 6, top, title, _INK)
    # Rows top-down: device lane, device-edge link, edge lane, edge-cloud link, cloud lane.
    y, lane_top, link_top = top + 14, {}, {}
    for place in (DEVICE, EDGE, CLOUD):
        lane_top[place] = y
        _fill(image, _LEFT, WIDTH - 6, y, y + _LANE_HEIGHT, _LANE)
        _text(image, 6, y + 6, PLACES[place], _PLACE_COLOURS[place])
        y += _LANE_HEIGHT
        if place != CLOUD:
            link_top[place] = y + 1
            y += _LINK_HEIGHT + 2
    for segment in segments:
        x0, x1 = _LEFT + segment.start * scale, _LEFT + segment.end * scale
        if segment.kind == "send":
            y0 = link_top[segment.row]
            _fill(image, x0, x1, y0, y0 + _LINK_HEIGHT, _TRANSFER)
        else:
            y0 = lane_top[segment.row]
            x1 = max(x1, x0 + 3)  # visible even when it takes no time (the cloud's, by default)
            _fill(image, x0, x1, y0 + 2, y0 + _LANE_HEIGHT - 2, _PLACE_COLOURS[segment.row])
            _fill(image, x0, x0 + 1, y0 + 2, y0 + _LANE_HEIGHT - 2, _INK)  # where it starts
            if x1 - x0 >= 12:
                _text(image, int(x0) + 3, y0 + 6, str(segment.subtask), _BACKGROUND)
    if cursor:
        end = segments[-1].end if segments else 0.0
        _fill(image, _LEFT + end * scale, _LEFT + end * scale + 2, top + 12, y, _CURSOR)


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
    scale = (WIDTH - 6 - _LEFT) / span if span > 0 else 0.0
    image = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    image[:] = _BACKGROUND
    _panel(image, 4, f"agent {agent_end:.2f} s", agent, scale, cursor=True)
    _panel(image, 130, f"optimum {best[-1].end if best else 0.0:.2f} s", best, scale, False)
    return image
