"""One batched numpy core: B independent multi-user systems stepped a slot at a time
(SPEC-MULTI sections 3 and 4). Every view (Gymnasium, its vector env, PettingZoo, SB3's
VecEnv over users) and every expert steps this core.

A placement books each contended resource (a device CPU, a user's radio, a server's
uplink sub-channels, an edge CPU) from the later of the task's readiness and the
resource's ``free_at`` (no back-filling), so a task's whole timeline, and its latency, is
known when it is placed. Within a slot the tasks are placed one position at a time
(higher class weight first, then the slot's random order); each position is one
vectorised booking over the B systems.

Systems may be at different slots (partial reset by index: :meth:`MultiCore.reset`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.model import MultiEpisodes, MultiScenario

MULTI_OBJECTIVES = ("latency", "energy", "weighted", "deadline", "aoi")
SLOT_SNAP = 1e-9  # a time within this (relative) of a slot boundary is on it
NO_TASK = -1  # the place recorded for a user without a task
# Each task's recorded event times (s; NaN where a stage does not apply), in this order.
TIMES = (
    "device_start",
    "device_end",
    "upload_start",
    "upload_end",
    "run_start",
    "run_end",
    "done",
)


def slot_of(x: np.ndarray, slot_seconds: float, slots: int) -> np.ndarray:
    """The slot holding each time x >= 0 (a time within ``SLOT_SNAP`` (relative) below a
    boundary is on it, so it belongs to the later slot), held at the last drawn slot beyond
    them."""
    q = x / slot_seconds
    k = np.floor(q + SLOT_SNAP * np.maximum(1.0, q))
    return np.minimum(k, slots - 1).astype(np.intp)


@dataclass(frozen=True)
class Booking:
    """What placing one position's task does in each system (B,): see :meth:`MultiCore.evaluate`.

    ``latency`` is NaN for a drop or no task. ``stages`` holds the event times of
    :data:`TIMES`, (B,) each, valid where the matching ``masks`` entry holds (a task with
    that stage); :attr:`times` puts NaN elsewhere.
    """

    user: np.ndarray
    active: np.ndarray
    place: np.ndarray
    server: np.ndarray
    channel: np.ndarray
    limited: np.ndarray
    dropped: np.ndarray
    latency: np.ndarray
    energy: np.ndarray
    stages: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray, ...]

    @property
    def times(self) -> np.ndarray:
        """(B, len(TIMES)) the event times, NaN where a stage does not apply."""
        return np.stack(
            [np.where(m, x, np.nan) for m, x in zip(self.masks, self.stages, strict=True)],
            axis=1,
        )


@dataclass
class OpenSlot:
    """A slot being placed: its slot index and start time (B,), its tasks, the placement
    order (B, U) and tasks per system (B,), and what has been committed so far."""

    t: np.ndarray
    a: np.ndarray
    cur: dict[str, np.ndarray]
    seq: np.ndarray
    count: np.ndarray

    def __post_init__(self) -> None:
        B, U = self.seq.shape
        self.rows = np.arange(B)
        # The tasks' fields in placement order: position i is column i.
        self.by_position = {
            name: np.take_along_axis(self.cur[name], self.seq, axis=1)
            for name in ("has_task", "cycles", "input_data", "output_data")
        }
        self.bookings: list[Booking] = []  # committed, position by position

    def committed(self) -> dict[str, np.ndarray]:
        """What the committed bookings did, per user (B, U): place (``NO_TASK`` where
        none), latency, dropped, energy, times (B, U, len(TIMES)) and sub-channel (-1)."""
        B, U = self.seq.shape
        out = {
            "place": np.full((B, U), NO_TASK, dtype=np.int64),
            "latency": np.full((B, U), np.nan),
            "dropped": np.zeros((B, U), dtype=bool),
            "energy": np.zeros((B, U)),
            "times": np.full((B, U, len(TIMES)), np.nan),
            "channel": np.full((B, U), -1, dtype=np.int64),
        }
        n = len(self.bookings)
        if n == 0:
            return out
        users = self.seq[:, :n]
        active = np.stack([b.active for b in self.bookings], axis=1)
        rows = np.broadcast_to(self.rows[:, None], users.shape)[active]
        cols = users[active]
        out["place"][rows, cols] = np.stack([b.place for b in self.bookings], axis=1)[active]
        for name in ("latency", "dropped", "energy"):
            out[name][rows, cols] = np.stack([getattr(b, name) for b in self.bookings], axis=1)[
                active
            ]
        out["times"][rows, cols] = np.stack([b.times for b in self.bookings], axis=1)[active]
        channel = np.stack([np.where(b.limited, b.channel, -1) for b in self.bookings], axis=1)
        out["channel"][rows, cols] = channel[active]
        return out


@dataclass(frozen=True)
class SlotResult:
    """What one step placed, per system b and user u (B, U) unless said otherwise.

    Attributes:
        has_task: whether u had a task this slot. place: its place (``NO_TASK`` if none).
        latency: s, result back on the device minus arrival (NaN for a drop or no task).
        dropped, missed: a full buffer dropped it; it finished after its deadline.
        energy: the device's joules. cost: the task's cost under the objective (0 if none;
            for ``aoi``, u's weighted age integral over the slot, s^2).
        relative: ``cost`` over the task's best cost alone (``aoi``: over Δ^2).
        aoi: u's age integral over the slot, s^2 (unweighted), for ``objective="aoi"``;
            NaN for the others (:meth:`MultiCore.episode_aoi` gives any episode's).
    """

    has_task: np.ndarray
    place: np.ndarray
    latency: np.ndarray
    dropped: np.ndarray
    missed: np.ndarray
    energy: np.ndarray
    cost: np.ndarray
    relative: np.ndarray
    aoi: np.ndarray


class MultiCore:
    """B systems of one scenario; :meth:`reset` starts episodes, :meth:`step` places a slot.

    State (each row a system): ``cpu_free`` and ``radio_free`` (B, U), ``channel_free``
    (B, S, C), ``edge_free`` (B, S) in seconds since the episode's start; the bookings on
    each edge (upload end, run end) for the buffers; each user's newest delivered update
    and the deliveries still in flight, for the age of information.
    """

    def __init__(self, scenario: MultiScenario, objective: str, constants: Objective, size: int):
        if objective not in MULTI_OBJECTIVES:
            raise ValueError(f"objective must be one of {MULTI_OBJECTIVES}; got {objective!r}")
        self.scenario = scenario
        self.objective = objective
        self.constants = constants
        self.size = size
        sc = scenario
        B, U, S = size, sc.users, sc.servers
        self.channels = sc.uplink_channels  # (S,), 0 unlimited
        self.capacity = sc.buffer
        self.C = max(1, int(self.channels.max()))
        self.t = np.full(B, sc.horizon, dtype=np.int64)  # no episode yet: finished
        self.episodes: MultiEpisodes | None = None
        self.cpu_free = np.zeros((B, U))
        self.radio_free = np.zeros((B, U))
        self.channel_free = np.zeros((B, S, self.C))
        self.edge_free = np.zeros((B, S))
        self.booked_up = np.full((B, S, 4), np.inf)
        self.booked_run = np.full((B, S, 4), -np.inf)
        self.newest = np.zeros((B, U))
        self.pending_gen = np.full((B, U, 2), -np.inf)
        self.pending_done = np.full((B, U, 2), -np.inf)
        # Seconds booked on each resource so far: device CPUs, radios, uplinks, edge CPUs.
        self.device_busy = np.zeros((B, U))
        self.radio_busy = np.zeros((B, U))
        self.uplink_busy = np.zeros((B, S))
        self.edge_busy = np.zeros((B, S))
        T = sc.horizon
        self.record_place = np.full((B, T, U), NO_TASK, dtype=np.int64)
        self.record_latency = np.full((B, T, U), np.nan)
        self.record_dropped = np.zeros((B, T, U), dtype=bool)
        self.record_missed = np.zeros((B, T, U), dtype=bool)
        self.record_energy = np.zeros((B, T, U))
        self.record_cost = np.zeros((B, T, U))
        self.record_aoi = np.zeros((B, T, U))
        self.record_times = np.full((B, T, U, len(TIMES)), np.nan)  # TIMES of each task
        self.record_channel = np.full((B, T, U), -1, dtype=np.int64)  # its sub-channel (-1: none)
        self.normaliser = np.ones((B, T, U))

    # ------------------------------------------------------------------ episodes

    def reset(self, episodes: MultiEpisodes, index: np.ndarray | None = None) -> None:
        """Start ``episodes`` in the systems at ``index`` (all when None): empty queues."""
        idx = np.arange(self.size) if index is None else np.asarray(index, dtype=np.intp)
        if episodes.size != len(idx):
            raise ValueError(f"{episodes.size} episodes for {len(idx)} systems")
        if self.episodes is None:
            if len(idx) != self.size:
                raise ValueError("the first reset must start every system")
            self.episodes = episodes
        else:
            for name, array in vars(episodes).items():
                getattr(self.episodes, name)[idx] = array
        self.t[idx] = 0
        for array in (
            self.cpu_free,
            self.radio_free,
            self.edge_free,
            self.newest,
            self.device_busy,
            self.radio_busy,
            self.uplink_busy,
            self.edge_busy,
        ):
            array[idx] = 0.0
        channel_reset = np.where(self.channels[:, None] > 0, 0.0, -np.inf) * np.ones(self.C)
        # Servers with fewer sub-channels than C: the missing ones are never free.
        channel_reset[np.arange(self.C)[None, :] >= np.maximum(self.channels, 1)[:, None]] = np.inf
        channel_reset[self.channels == 0] = -np.inf
        self.channel_free[idx] = channel_reset
        self.booked_up[idx] = np.inf
        self.booked_run[idx] = -np.inf
        self.pending_gen[idx] = -np.inf
        self.pending_done[idx] = -np.inf
        self.record_place[idx] = NO_TASK
        self.record_latency[idx] = np.nan
        self.record_dropped[idx] = False
        self.record_missed[idx] = False
        for array in (self.record_energy, self.record_cost, self.record_aoi):
            array[idx] = 0.0
        self.record_times[idx] = np.nan
        self.record_channel[idx] = -1
        self.normaliser[idx] = self._normalisers(idx)

    @property
    def done(self) -> np.ndarray:
        """(B,) whether each system's episode has ended (T slots placed)."""
        return self.t >= self.scenario.horizon

    def current(self) -> dict[str, np.ndarray]:
        """The slot's new tasks, (B, U) each: has_task, cycles, input_data, output_data,
        deadline, k, and the slot's rates (B, U, S) and arrival time a (B,)."""
        ep = self._episodes()
        bi = np.arange(self.size)
        t = np.minimum(self.t, self.scenario.horizon - 1)
        return {
            "has_task": ep.arrive[bi, t] & ~self.done[:, None],
            "cycles": ep.cycles[bi, t],
            "input_data": ep.input_data[bi, t],
            "output_data": ep.output_data[bi, t],
            "deadline": ep.deadline[bi, t],
            "k": ep.k[bi, t],
            "bandwidth": ep.bandwidth[bi, t],
            "a": t * self.scenario.slot_seconds,
        }

    def _episodes(self) -> MultiEpisodes:
        if self.episodes is None:
            raise RuntimeError("no episodes yet: call reset() first")
        return self.episodes

    def placement_order(
        self, cur: dict[str, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(B, U) users in placement order (users with a task first: higher class weight,
        then the slot's random order), and (B,) the number with a task."""
        ep = self._episodes()
        bi = np.arange(self.size)
        t = np.minimum(self.t, self.scenario.horizon - 1)
        cur = self.current() if cur is None else cur
        order = ep.order[bi, t]  # order[b, j]: the user at position j
        position = np.empty_like(order)
        np.put_along_axis(position, order, np.arange(self.scenario.users)[None, :], axis=1)
        weight = self.scenario.class_weights[cur["k"]]
        # Sort by (no task last, -weight, position): lexsort's last key is the primary one.
        seq = np.lexsort((position, -weight, ~cur["has_task"]), axis=-1)
        return seq, cur["has_task"].sum(axis=1)

    # ------------------------------------------------------------------ one slot

    def open_slot(self) -> OpenSlot:
        """The current slot of every system, for placing its tasks one position at a time
        (:meth:`evaluate`, :meth:`commit`): what :meth:`step` does, and experts that choose
        each task's place given the ones before it."""
        if self.done.any():
            raise RuntimeError("a system's episode is over: reset it before stepping")
        cur = self.current()
        seq, count = self.placement_order(cur)
        t = self.t.copy()
        return OpenSlot(t, t * self.scenario.slot_seconds, cur, seq, count)

    def evaluate(self, slot: OpenSlot, i: int, place: np.ndarray) -> Booking:
        """What placing the task at position ``i`` of each system's placement order on
        ``place`` (B,) would do, given everything committed so far; changes nothing."""
        sc, ep = self.scenario, self._episodes()
        S, dt = sc.servers, sc.slot_seconds
        bi = slot.rows
        t, a, fields = slot.t, slot.a, slot.by_position
        K = ep.bandwidth.shape[1]
        u = slot.seq[:, i]
        act = fields["has_task"][:, i]
        pl = np.where(act, place, 0)
        dev = act & (pl == 0)
        off = act & (pl > 0)
        edge = off & (pl <= S)
        s = np.where(pl > S, pl - 1 - S, np.maximum(pl - 1, 0))
        c = fields["cycles"][:, i]
        din = fields["input_data"][:, i]
        dout = fields["output_data"][:, i]
        att = ep.attempts[bi, t, u]
        # On the device.
        dev_start = np.maximum(a, self.cpu_free[bi, u])
        dev_hz = ep.device_hz[bi, u]
        dev_end = dev_start + c / dev_hz
        # The upload: the user's radio and the earliest free sub-channel of s.
        chans = self.channel_free[bi, s]
        j = chans.argmin(axis=1)
        up_start = np.maximum(np.maximum(a, self.radio_free[bi, u]), chans[bi, j])
        rate = ep.bandwidth[bi, slot_of(up_start, dt, K), u, s]
        up_end = up_start + att[:, 0] * din / rate
        # The edge: a full buffer drops the task at the upload's end.
        cap = self.capacity[s]
        if self.capacity.any():
            up = up_end[:, None]
            present = ((self.booked_up[bi, s] <= up) & (up < self.booked_run[bi, s])).sum(axis=1)
            drop = edge & (cap > 0) & (present >= cap)
        else:
            drop = np.zeros(self.size, dtype=bool)
        run_start = np.maximum(up_end, self.edge_free[bi, s])
        run_end = run_start + c / ep.edge_hz[bi, s]
        # The cloud through s: backhaul up, run, backhaul down, no waiting.
        cbw = ep.cloud_bandwidth[bi, s]
        bh_up_end = up_end + att[:, 1] * din / cbw
        cloud_end = bh_up_end + c / sc.cloud_hz
        bh_down_end = cloud_end + att[:, 2] * dout / cbw
        back = np.where(edge, run_end, bh_down_end)
        rate_back = ep.bandwidth[bi, slot_of(back, dt, K), u, s]
        down_end = back + att[:, 3] * dout / rate_back
        done = np.where(dev, dev_end, down_end)
        kc = self.constants
        energy = np.where(
            dev,
            kc.kappa * c * dev_hz**2,
            kc.tx_power * (up_end - up_start)
            + np.where(drop, 0.0, kc.rx_power * (down_end - back)),
        )
        on_edge = edge & ~drop
        kept = act & ~drop
        limited = off & (self.channels[s] > 0)
        return Booking(
            u,
            act,
            pl,
            s,
            j,
            limited,
            drop,
            np.where(kept, done - a, np.nan),
            energy,
            (dev_start, dev_end, up_start, up_end, run_start, run_end, done),
            (dev, dev, off, off, on_edge, on_edge, kept),
        )

    def commit(self, slot: OpenSlot, booking: Booking) -> None:
        """Book ``booking`` (from :meth:`evaluate` on the current state)."""
        bi = slot.rows
        u, s, j = booking.user, booking.server, booking.channel
        dev, _, off, _, on_edge, _, kept = booking.masks
        dev_start, dev_end, up_start, up_end, run_start, run_end, done = booking.stages
        self.cpu_free[bi[dev], u[dev]] = dev_end[dev]
        self.device_busy[bi[dev], u[dev]] += (dev_end - dev_start)[dev]
        self.radio_free[bi[off], u[off]] = up_end[off]
        upload = (up_end - up_start)[off]
        self.radio_busy[bi[off], u[off]] += upload
        np.add.at(self.uplink_busy, (bi[off], s[off]), upload)
        lim = booking.limited
        self.channel_free[bi[lim], s[lim], j[lim]] = up_end[lim]
        if on_edge.any():
            ends = run_end[on_edge]
            self.edge_free[bi[on_edge], s[on_edge]] = ends
            self.edge_busy[bi[on_edge], s[on_edge]] += ends - run_start[on_edge]
            self._book_edge(bi[on_edge], s[on_edge], up_end[on_edge], ends, slot.a[on_edge])
        if self.objective == "aoi" and kept.any():
            self._pending(bi[kept], u[kept], slot.a[kept], done[kept])
        slot.bookings.append(booking)

    def step(self, places: np.ndarray) -> SlotResult:
        """Place every system's slot: ``places`` (B, U) integers in [0, 1 + 2S) (checked by
        the views; ignored for users without a task)."""
        slot = self.open_slot()
        bi = np.arange(self.size)
        for i in range(int(slot.count.max(initial=0))):
            self.commit(slot, self.evaluate(slot, i, places[bi, slot.seq[:, i]]))
        return self.close_slot(slot)

    def close_slot(self, slot: OpenSlot) -> SlotResult:
        """End the slot once every task is committed: its costs, the AoI, the records."""
        dt = self.scenario.slot_seconds
        bi = np.arange(self.size)
        t, a, cur = slot.t, slot.a, slot.cur
        placed = slot.committed()
        latency, dropped, energy = placed["latency"], placed["dropped"], placed["energy"]
        place_out, times, channel = placed["place"], placed["times"], placed["channel"]
        has = cur["has_task"]
        missed = has & ~dropped & (latency > cur["deadline"])
        if self.objective == "aoi":
            aoi = self._age_integrals(a, a + dt)
        else:  # only the aoi objective needs it per slot: episode_aoi() from the records
            aoi = np.full(latency.shape, np.nan)
        cost = self._costs(self.objective, cur["k"], cur["deadline"], has, latency, dropped, energy)
        if self.objective == "aoi":
            cost = self.scenario.aoi_weights * aoi
        norm = self.normaliser[bi, t]
        if self.objective == "aoi":
            relative = cost / dt**2
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                relative = np.where(has, cost / norm, 0.0)
        rows = (bi, t)
        self.record_place[rows] = place_out
        self.record_latency[rows] = latency
        self.record_dropped[rows] = dropped
        self.record_missed[rows] = missed
        self.record_energy[rows] = energy
        self.record_cost[rows] = cost
        self.record_aoi[rows] = aoi
        self.record_times[rows] = times
        self.record_channel[rows] = channel
        self.t += 1
        return SlotResult(has, place_out, latency, dropped, missed, energy, cost, relative, aoi)

    def _costs(
        self,
        objective: str,
        k: np.ndarray,
        deadline: np.ndarray,
        has: np.ndarray,
        latency: np.ndarray,
        dropped: np.ndarray,
        energy: np.ndarray,
    ) -> np.ndarray:
        """Each task's cost under a per-task ``objective`` (SPEC-MULTI section 4; any shape)."""
        sc = self.scenario
        if objective == "deadline":
            missed = has & ~dropped & (latency > deadline)
            return (missed | dropped).astype(np.float64)
        if objective == "energy":
            return np.where(has, energy, 0.0)
        weight = sc.class_weights[k]
        penalty = 2.0 * deadline if sc.drop_penalty is None else sc.drop_penalty
        late = np.where(dropped, penalty, np.nan_to_num(latency))
        lat_cost = np.where(has, weight * late, 0.0)
        if objective == "latency":
            return lat_cost
        w = self.constants.latency_weight
        return w * lat_cost + (1.0 - w) * np.where(has, energy, 0.0)

    def booking_cost(self, slot: OpenSlot, booking: Booking) -> np.ndarray:
        """(B,) the booked task's cost under the objective; for ``aoi``, its weighted
        latency (what a task adds to its user's age)."""
        bi = np.arange(self.size)
        objective = "latency" if self.objective == "aoi" else self.objective
        return self._costs(
            objective,
            slot.cur["k"][bi, booking.user],
            slot.cur["deadline"][bi, booking.user],
            booking.active,
            booking.latency,
            booking.dropped,
            booking.energy,
        )

    def _book_edge(
        self, b: np.ndarray, s: np.ndarray, up: np.ndarray, run: np.ndarray, now: np.ndarray
    ) -> None:
        """Keep (upload end, run end) of a task booked on edge s, for the buffer's count.
        A booking whose run ended by ``now`` can never count again: its place is reused."""
        free = self.booked_run[b, s].argmin(axis=1)
        full = self.booked_run[b, s, free] > now
        if full.any():  # every place holds a live booking: grow
            R = self.booked_run.shape[2]
            self.booked_up = np.concatenate(
                [self.booked_up, np.full(self.booked_up.shape, np.inf)], axis=2
            )
            self.booked_run = np.concatenate(
                [self.booked_run, np.full(self.booked_run.shape, -np.inf)], axis=2
            )
            free = np.where(full, R, free)
        self.booked_up[b, s, free] = up
        self.booked_run[b, s, free] = run

    def _pending(self, b: np.ndarray, u: np.ndarray, gen: np.ndarray, done: np.ndarray) -> None:
        """Keep a delivery (generation, done) in flight, for the age of information."""
        free = self.pending_done[b, u].argmin(axis=1)
        full = self.pending_done[b, u, free] > -np.inf
        if full.any():
            P = self.pending_done.shape[2]
            self.pending_gen = np.concatenate(
                [self.pending_gen, np.full(self.pending_gen.shape, -np.inf)], axis=2
            )
            self.pending_done = np.concatenate(
                [self.pending_done, np.full(self.pending_done.shape, -np.inf)], axis=2
            )
            free = np.where(full, P, free)
        self.pending_gen[b, u, free] = gen
        self.pending_done[b, u, free] = done

    def _age_integrals(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Each user's integral of its age over [lo, hi] (B, U), s^2; then the deliveries
        of the slot are folded into the newest delivered update."""
        done = self.pending_done
        integral = age_integrals(self.pending_gen, done, self.newest, lo[:, None], hi[:, None])
        arrived = done <= hi[:, None, None]
        self.newest = np.maximum(
            self.newest, np.where(arrived, self.pending_gen, -np.inf).max(axis=-1)
        )
        self.pending_done = np.where(arrived, -np.inf, done)
        self.pending_gen = np.where(arrived, -np.inf, self.pending_gen)
        return integral

    def episode_aoi(self) -> np.ndarray:
        """(B, U) each user's age integrated from 0 to the slots placed so far (s^2), from
        the records: the sum of the slots' integrals, whatever the objective."""
        sc = self.scenario
        T = sc.horizon
        done = np.moveaxis(self.record_times[..., TIMES.index("done")], 1, -1)  # (B, U, T)
        gen = np.broadcast_to(np.arange(T) * sc.slot_seconds, done.shape)
        delivered = np.isfinite(done)
        zero = np.zeros(done.shape[:2])
        end = (self.t * sc.slot_seconds)[:, None]
        return age_integrals(
            np.where(delivered, gen, -np.inf), np.where(delivered, done, -np.inf), zero, zero, end
        )

    # ------------------------------------------------------------------ alone

    def costs_alone_best(self) -> np.ndarray:
        """(B, T, U) every system's tasks' least cost alone (see :meth:`_normalisers`)."""
        return self._normalisers(np.arange(self.size))

    def _normalisers(self, idx: np.ndarray) -> np.ndarray:
        """(len(idx), T, U): each task's least cost alone (empty queues, its arrival slot's
        rates, one attempt per leg) under the objective; 1 where there is no task."""
        alone = self.costs_alone(idx)
        best = alone.min(axis=-1)
        has = self._episodes().arrive[idx]
        return np.where(has, best, 1.0)

    def costs_alone(self, idx: np.ndarray) -> np.ndarray:
        """(len(idx), T, U, 1 + 2S): every task's cost alone on every place (see
        :meth:`_normalisers`)."""
        sc, ep = self.scenario, self._episodes()
        T = sc.horizon
        c = ep.cycles[idx][..., None]
        din = ep.input_data[idx][..., None]
        dout = ep.output_data[idx][..., None]
        b = ep.bandwidth[idx][:, :T]  # (n, T, U, S)
        dev_hz = ep.device_hz[idx][:, None, :, None]
        edge_hz = ep.edge_hz[idx][:, None, None, :]
        cbw = ep.cloud_bandwidth[idx][:, None, None, :]
        local = c / dev_hz
        up, down = din / b, dout / b
        edge = up + c / edge_hz + down
        cloud = up + din / cbw + c / sc.cloud_hz + dout / cbw + down
        lat = np.concatenate([local, edge, cloud], axis=-1)
        kc = self.constants
        e_local = kc.kappa * c * dev_hz**2
        e_off = kc.tx_power * up + kc.rx_power * down
        en = np.concatenate([e_local, e_off, e_off], axis=-1)
        weight = sc.class_weights[ep.k[idx]][..., None]
        if self.objective in ("latency", "aoi"):
            return weight * lat
        if self.objective == "energy":
            return en
        if self.objective == "deadline":
            return (lat > ep.deadline[idx][..., None]).astype(np.float64)
        w = kc.latency_weight
        return w * weight * lat + (1.0 - w) * en

    # ------------------------------------------------------------------ copies

    def copy(self) -> MultiCore:
        """An independent copy (state and episodes), for experts that look ahead."""
        new = object.__new__(MultiCore)
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                value = value.copy()
            elif isinstance(value, MultiEpisodes):
                value = MultiEpisodes(**{k: v.copy() for k, v in vars(value).items()})
            setattr(new, name, value)
        return new

    def select(self, index: np.ndarray) -> MultiCore:
        """A core of the systems at ``index`` (repeats allowed), state and episodes copied."""
        index = np.asarray(index, dtype=np.intp)
        new = object.__new__(MultiCore)
        per_system = {name for name, v in vars(self).items() if isinstance(v, np.ndarray)}
        per_system -= {"channels", "capacity"}  # per server, not per system
        for name, value in vars(self).items():
            if name in per_system:
                value = value[index]
            elif isinstance(value, MultiEpisodes):
                value = value.select(index)
            setattr(new, name, value)
        new.size = len(index)
        return new


def utilisation(core: MultiCore) -> dict[str, np.ndarray]:
    """Each resource's booked seconds over the seconds elapsed (the slots placed), per
    system: ``device`` and ``radio`` (B, U), ``uplink`` (B, S: per sub-channel; an
    unlimited uplink counts its uploads' seconds) and ``edge`` (B, S). Above 1: work
    booked beyond the slots placed (a queue that outgrows the episode)."""
    elapsed = (np.maximum(core.t, 1) * core.scenario.slot_seconds)[:, None]
    channels = np.maximum(core.scenario.uplink_channels, 1)
    return {
        "device": core.device_busy / elapsed,
        "radio": core.radio_busy / elapsed,
        "uplink": core.uplink_busy / channels / elapsed,
        "edge": core.edge_busy / elapsed,
    }


def age_integrals(
    gen: np.ndarray, done: np.ndarray, newest: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """The integral over [lo, hi] of a user's age (s^2), ``x - g(x)`` with ``g(x)`` the newest
    generation time delivered by x: ``newest`` before lo, then deliveries (``gen``,
    ``done``) over the last axis (-inf: none); the other axes broadcast with lo and hi."""
    lo3, hi3 = lo[..., None], hi[..., None]
    order = done.argsort(axis=-1)
    d = np.take_along_axis(done, order, axis=-1)
    g = np.take_along_axis(gen, order, axis=-1)
    x = np.clip(d, lo3, hi3)  # empty places (-inf) at lo, later deliveries at hi
    level = np.maximum.accumulate(
        np.maximum(newest[..., None], np.where(d < hi3, g, -np.inf)), axis=-1
    )
    # The age is x - g: the integral of (x - lo) is (hi - lo)^2 / 2, plus (lo - g) per piece.
    widths = np.diff(
        np.concatenate([x, np.broadcast_to(hi3, x.shape[:-1] + (1,))], axis=-1), axis=-1
    )
    first = x[..., 0] - lo
    return (hi - lo) ** 2 / 2 + (lo - newest) * first + ((lo3 - level) * widths).sum(axis=-1)
