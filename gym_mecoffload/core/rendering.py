"""Drawing timelines with numpy alone (the env package needs nothing else): a 3 x 5
bitmap font, filled boxes, and a panel of one lane per place with the links between
them, on which each family draws its executions and transfers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gym_mecoffload.core.topology import CLOUD, DEVICE, EDGE, PLACES

WIDTH = 640  # pixels; a multiple of 16, as video encoders prefer

BACKGROUND = (255, 255, 255)
LANE = (238, 238, 238)
INK = (33, 33, 33)
TRANSFER = (120, 120, 120)
CURSOR = (211, 47, 47)
PLACE_COLOURS = ((30, 136, 229), (251, 140, 0), (67, 160, 71))  # device, edge, cloud

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
    "B": "110101110101110", "K": "101101110101101", "W": "101101101111101",
    "X": "101101010101101", "Y": "101101010010010", "J": "001001001101010",
    "Q": "010101101110011", "Z": "111001010100111", ",": "000000000010100",
    "<": "001010100010001", ">": "100010001010100", "=": "000111000111000",
    "(": "010100100100010", ")": "010001001001010", "+": "000010111010000",
}  # fmt: skip


@dataclass(frozen=True)
class Segment:
    """One bar of a timeline: an execution on a place, or a transfer over a link."""

    kind: str  # "run" or "send"
    row: int  # place (DEVICE, EDGE, CLOUD) for "run"; link 0 (device-edge) or 1 (edge-cloud)
    start: float  # seconds
    end: float
    subtask: int  # n for the output's return


def fill_box(image: np.ndarray, x0: float, x1: float, y0: int, y1: int, colour) -> None:
    left, right = int(round(x0)), max(int(round(x1)), int(round(x0)) + 1)
    image[y0:y1, max(left, 0) : min(right, image.shape[1])] = colour


def draw_text(image: np.ndarray, x: int, y: int, text: str, colour, scale: int = 2) -> None:
    for character in text.upper():
        bits = _GLYPHS.get(character, _GLYPHS[" "])
        glyph = np.array([int(b) for b in bits], dtype=bool).reshape(5, 3)
        glyph = glyph.repeat(scale, axis=0).repeat(scale, axis=1)
        patch = image[y : y + glyph.shape[0], x : x + glyph.shape[1]]
        patch[glyph[: patch.shape[0], : patch.shape[1]]] = colour
        x += 4 * scale


LEFT = 84  # pixels of lane labels, left of the time axis
LANE_HEIGHT, LINK_HEIGHT = 22, 8


def draw_panel(
    image: np.ndarray,
    top: int,
    title: str,
    segments: list[Segment],
    scale: float,
    cursor: bool,
    *,
    lane_notes: tuple[str, str, str] | None = None,
    marked: frozenset[int] = frozenset(),
) -> int:
    """One timeline at ``top``: the title, a lane per place (with ``lane_notes`` under
    the names, if given, and then the links labelled), the segments at ``scale``
    pixels per second (executions numbered by subtask, those ``marked`` framed in red),
    and a red cursor at the latest end if ``cursor``. Returns the panel's bottom row."""
    draw_text(image, 6, top, title, INK)
    # Rows top-down: device lane, device-edge link, edge lane, edge-cloud link, cloud lane.
    y, lane_top, link_top = top + 14, {}, {}
    for place in (DEVICE, EDGE, CLOUD):
        lane_top[place] = y
        fill_box(image, LEFT, WIDTH - 6, y, y + LANE_HEIGHT, LANE)
        if lane_notes is None:
            draw_text(image, 6, y + 6, PLACES[place], PLACE_COLOURS[place])
        else:
            draw_text(image, 6, y + 2, PLACES[place], PLACE_COLOURS[place])
            draw_text(image, 6, y + 14, lane_notes[place], PLACE_COLOURS[place], scale=1)
        y += LANE_HEIGHT
        if place != CLOUD:
            link_top[place] = y + 1
            if lane_notes is not None:
                draw_text(image, 6, y + 2, f"{PLACES[place]}-{PLACES[place + 1]} link", TRANSFER, 1)
            y += LINK_HEIGHT + 2
    for segment in segments:
        x0, x1 = LEFT + segment.start * scale, LEFT + segment.end * scale
        if segment.kind == "send":
            y0 = link_top[segment.row]
            fill_box(image, x0, x1, y0, y0 + LINK_HEIGHT, TRANSFER)
            continue
        y0 = lane_top[segment.row]
        x1 = max(x1, x0 + 3)  # visible even when it takes no time (the cloud's, by default)
        if segment.subtask in marked:
            fill_box(image, x0 - 2, x1 + 2, y0, y0 + LANE_HEIGHT, CURSOR)
        fill_box(image, x0, x1, y0 + 2, y0 + LANE_HEIGHT - 2, PLACE_COLOURS[segment.row])
        fill_box(image, x0, x0 + 1, y0 + 2, y0 + LANE_HEIGHT - 2, INK)  # where it starts
        if x1 - x0 >= 12:
            draw_text(image, int(x0) + 3, y0 + 6, str(segment.subtask), BACKGROUND)
    if cursor:
        end = max((segment.end for segment in segments), default=0.0)
        fill_box(image, LEFT + end * scale, LEFT + end * scale + 2, top + 12, y, CURSOR)
    return y
