"""What a user sees and what the dispatcher sees (SPEC-MULTI section 5), float32.

Times are in slots (seconds / Δ) measured from the current slot's start, cycles in
Gcycles, bytes in MB, rates in MB/s, CPU speeds in GHz: the scale of the values the
presets draw. Every entry is finite and at least 0; a backlog counts from now (0 when the
resource is free).

A user's **local** observation (:func:`local_observations`, ``10 + 6S`` entries):

==================  ======  =====================================================
entries             unit    what
==================  ======  =====================================================
0                   -       1 if the user has a new task this slot, else 0
1, 2, 3             Gc, MB  the task's cycles, input and output data (0: no task)
4                   slots   its deadline
5                   -       its class weight
6, 7                slots   the user's own CPU and radio backlogs
8 .. 8+S            MB/s    its link's rate to each server in this slot
next S              slots   each server's edge CPU backlog
next S              tasks   each server's booked, unfinished tasks
next S              slots   each server's wait for its earliest free sub-channel
next 1 + 2S         GHz,    the platform: the user's CPU, each server's CPU (GHz),
                    MB/s    each server's backhaul (MB/s)
last                -       the episode's progress t / T
==================  ======  =====================================================

The **global** state (:func:`global_state`, ``U (9 + S) + 5S + 1`` entries): for each user
its task (entries 0-5 above), its two backlogs, its links' rates (S) and its CPU (GHz);
then for each server its backlog, booked tasks, sub-channel wait, CPU (GHz) and backhaul
(MB/s); then t / T.
"""

from __future__ import annotations

import numpy as np

from gym_mecoffload.core.checks import GIGA, MEGA
from gym_mecoffload.multi.core import MultiCore


def local_size(servers: int) -> int:
    """Entries of a user's local observation."""
    return 10 + 6 * servers


def global_size(users: int, servers: int) -> int:
    """Entries of the global state."""
    return users * (9 + servers) + 5 * servers + 1


def _parts(core: MultiCore) -> dict[str, np.ndarray]:
    """The pieces both layouts are made of, float64."""
    sc, ep = core.scenario, core.episodes
    dt = sc.slot_seconds
    cur = core.current()
    a = cur["a"][:, None]
    has = cur["has_task"]
    task = np.stack(
        [
            has.astype(np.float64),
            cur["cycles"] / GIGA,
            cur["input_data"] / MEGA,
            cur["output_data"] / MEGA,
            cur["deadline"] / dt,
            np.where(has, sc.class_weights[cur["k"]], 0.0),
        ],
        axis=-1,
    )
    task[~has] = 0.0
    own = np.stack(
        [
            np.maximum(core.cpu_free - a, 0.0) / dt,
            np.maximum(core.radio_free - a, 0.0) / dt,
        ],
        axis=-1,
    )
    earliest = core.channel_free.min(axis=-1)
    wait = np.where(sc.uplink_channels > 0, np.maximum(earliest - a, 0.0), 0.0) / dt
    booked = (core.booked_run > a[..., None]).sum(axis=-1).astype(np.float64)
    servers = np.stack(
        [np.maximum(core.edge_free - a, 0.0) / dt, booked, wait],
        axis=-1,
    )
    return {
        "task": task,  # (B, U, 6)
        "own": own,  # (B, U, 2)
        "rates": cur["bandwidth"] / MEGA,  # (B, U, S)
        "servers": servers,  # (B, S, 3)
        "device_hz": ep.device_hz / GIGA,  # (B, U)
        "edge_hz": ep.edge_hz / GIGA,  # (B, S)
        "backhaul": ep.cloud_bandwidth / MEGA,  # (B, S)
        "progress": np.minimum(core.t, sc.horizon) / sc.horizon,  # (B,)
    }


def _f32(array: np.ndarray) -> np.ndarray:
    """float32, with anything beyond its range held at its largest value (backlogs of a
    system overloaded for ages), never inf."""
    top = np.finfo(np.float32).max
    return np.minimum(array, top).astype(np.float32)


def local_observations(core: MultiCore) -> np.ndarray:
    """(B, U, 10 + 6S) every user's local observation (module doc)."""
    p = _parts(core)
    B, U = p["device_hz"].shape
    S = p["edge_hz"].shape[1]

    def each_user(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x[:, None, :], (B, U, x.shape[-1]))

    return _f32(
        np.concatenate(
            [
                p["task"],
                p["own"],
                p["rates"],
                each_user(p["servers"].transpose(0, 2, 1).reshape(B, 3 * S)),
                p["device_hz"][..., None],
                each_user(p["edge_hz"]),
                each_user(p["backhaul"]),
                np.broadcast_to(p["progress"][:, None, None], (B, U, 1)),
            ],
            axis=-1,
        )
    )


def global_state(core: MultiCore) -> np.ndarray:
    """(B, U (9 + S) + 5S + 1) the global state (module doc)."""
    p = _parts(core)
    B = len(p["progress"])
    users = np.concatenate([p["task"], p["own"], p["rates"], p["device_hz"][..., None]], axis=-1)
    servers = np.concatenate(
        [p["servers"], p["edge_hz"][..., None], p["backhaul"][..., None]], axis=-1
    )
    return _f32(
        np.concatenate(
            [users.reshape(B, -1), servers.reshape(B, -1), p["progress"][:, None]], axis=-1
        )
    )


def action_masks(core: MultiCore) -> np.ndarray:
    """(B, U, 1 + 2S) int8: every place for a user with a task, place 0 only without one
    (its action is ignored)."""
    has = core.current()["has_task"]
    mask = np.ones(has.shape + (core.scenario.n_places,), dtype=np.int8)
    mask[~has, 1:] = 0
    return mask
