"""Frames of a multi-user episode: a table of the last slot (``ansi``) and a timeline with a
lane per device CPU, radio, sub-channel and edge CPU (``rgb_array``)."""

from __future__ import annotations

import numpy as np

from gym_mecoffload.core.rendering import (
    BACKGROUND,
    CURSOR,
    INK,
    LANE,
    LEFT,
    WIDTH,
    draw_text,
    fill_box,
)
from gym_mecoffload.multi.core import TIMES, MultiCore

LANE_PIXELS = 14
# One colour per user (cycled), a qualitative palette.
USER_COLOURS = (
    (30, 136, 229), (251, 140, 0), (67, 160, 71), (142, 36, 170), (0, 172, 193),
    (244, 81, 30), (124, 179, 66), (94, 53, 177), (255, 179, 0), (109, 76, 65),
)  # fmt: skip
T = {name: i for i, name in enumerate(TIMES)}


def place_name(place: int, servers: int) -> str:
    """``device``, ``edge s`` or ``cloud via s`` for a place index."""
    if place == 0:
        return "device"
    if place <= servers:
        return f"edge {place - 1}"
    return f"cloud via {place - 1 - servers}"


def render_ansi(core: MultiCore, b: int, title: str) -> str:
    """The last slot of system ``b`` as a table: each user's task, its place, how long it
    waited for the resources it queued on and its latency (s)."""
    sc = core.scenario
    t = int(core.t[b]) - 1
    lines = [f"{title}  slot {t + 1} of {sc.horizon} (slot = {sc.slot_seconds:g} s)"]
    if t < 0:
        lines.append("nothing placed yet")
        return "\n".join(lines) + "\n"
    a = t * sc.slot_seconds
    ep = core.episodes
    lines.append(
        f"{'user':>4}  {'Gcycles':>8} {'in MB':>7} {'out MB':>7} {'deadline s':>10}  "
        f"{'place':<12} {'wait s':>8} {'latency s':>10}  note"
    )
    for u in range(sc.users):
        place = int(core.record_place[b, t, u])
        if place < 0:
            lines.append(f"{u:>4}  no task")
            continue
        times = core.record_times[b, t, u]
        start = times[T["device_start"]] if place == 0 else times[T["upload_start"]]
        wait = start - a
        if np.isfinite(times[T["run_start"]]):
            wait += times[T["run_start"]] - times[T["upload_end"]]
        latency = core.record_latency[b, t, u]
        note = (
            "dropped (buffer full)"
            if core.record_dropped[b, t, u]
            else ("missed deadline" if core.record_missed[b, t, u] else "")
        )
        shown = "-" if not np.isfinite(latency) else f"{latency:.4g}"
        lines.append(
            f"{u:>4}  {ep.cycles[b, t, u] / 1e9:>8.3g} {ep.input_data[b, t, u] / 1e6:>7.3g} "
            f"{ep.output_data[b, t, u] / 1e6:>7.3g} {ep.deadline[b, t, u]:>10.3g}  "
            f"{place_name(place, sc.servers):<12} {wait:>8.3g} {shown:>10}  {note}"
        )
    return "\n".join(lines) + "\n"


def lanes(core: MultiCore) -> list[str]:
    """The timeline's lanes, top down."""
    sc = core.scenario
    names = [f"CPU U{u}" for u in range(sc.users)] + [f"RADIO U{u}" for u in range(sc.users)]
    for s in range(sc.servers):
        count = int(sc.uplink_channels[s])
        names += [f"S{s} CH{c}" for c in range(count)] if count else [f"S{s} UPLINK"]
    names += [f"EDGE S{s}" for s in range(sc.servers)]
    return names


def render_rgb(core: MultiCore, b: int, title: str) -> np.ndarray:
    """System ``b``'s episode so far as a timeline (H, WIDTH, 3) uint8: a lane per device
    CPU, radio, sub-channel and edge CPU; bars coloured by user; a red frame marks a
    missed deadline and a red bar at a drop's upload end a dropped task; the red line is
    the current slot's start."""
    sc = core.scenario
    names = lanes(core)
    row = {name: i for i, name in enumerate(names)}
    top = 30
    height = top + LANE_PIXELS * len(names) + 24
    image = np.full((height, WIDTH, 3), BACKGROUND, dtype=np.uint8)
    t_now = int(core.t[b])
    draw_text(image, 6, 6, f"{title}  SLOT {t_now}/{sc.horizon}", INK)
    # The users' colours, as the lanes' bars use them.
    x = WIDTH - 8 - 28 * min(sc.users, len(USER_COLOURS))
    for u in range(min(sc.users, len(USER_COLOURS))):
        fill_box(image, x, x + 8, 6, 14, USER_COLOURS[u])
        draw_text(image, x + 10, 8, f"U{u}", INK, scale=1)
        x += 28
    times = core.record_times[b, :t_now]
    finite = times[np.isfinite(times)]
    span = max(
        float(finite.max()) if finite.size else 0.0, t_now * sc.slot_seconds, sc.slot_seconds
    )
    scale = (WIDTH - LEFT - 8) / span
    for name, i in row.items():
        y = top + i * LANE_PIXELS
        fill_box(image, LEFT, WIDTH - 6, y + 1, y + LANE_PIXELS - 1, LANE)
        draw_text(image, 4, y + 4, name, INK, scale=1)

    def bar(lane: str, start: float, end: float, colour, marked: bool) -> None:
        y = top + row[lane] * LANE_PIXELS
        x0, x1 = LEFT + start * scale, max(LEFT + end * scale, LEFT + start * scale + 2)
        if marked:
            fill_box(image, x0 - 1, x1 + 1, y, y + LANE_PIXELS, CURSOR)
        fill_box(image, x0, x1, y + 2, y + LANE_PIXELS - 2, colour)

    for t in range(t_now):
        for u in range(sc.users):
            place = int(core.record_place[b, t, u])
            if place < 0:
                continue
            tm = times[t, u]
            colour = USER_COLOURS[u % len(USER_COLOURS)]
            missed = bool(core.record_missed[b, t, u])
            if place == 0:
                bar(f"CPU U{u}", tm[T["device_start"]], tm[T["device_end"]], colour, missed)
                continue
            s = (place - 1) % sc.servers
            bar(f"RADIO U{u}", tm[T["upload_start"]], tm[T["upload_end"]], colour, missed)
            c = int(core.record_channel[b, t, u])
            channel = f"S{s} CH{c}" if c >= 0 else f"S{s} UPLINK"
            bar(channel, tm[T["upload_start"]], tm[T["upload_end"]], colour, missed)
            if core.record_dropped[b, t, u]:
                x = LEFT + tm[T["upload_end"]] * scale
                y = top + row[f"EDGE S{s}"] * LANE_PIXELS
                fill_box(image, x, x + 3, y, y + LANE_PIXELS, CURSOR)
            elif np.isfinite(tm[T["run_start"]]):
                bar(f"EDGE S{s}", tm[T["run_start"]], tm[T["run_end"]], colour, missed)
    x = LEFT + t_now * sc.slot_seconds * scale
    fill_box(image, x, x + 2, top, top + LANE_PIXELS * len(names), CURSOR)
    draw_text(image, LEFT, height - 16, "0 S", INK, scale=1)
    draw_text(image, WIDTH - 60, height - 16, f"{span:.3g} S", INK, scale=1)
    return image
