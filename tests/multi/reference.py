"""A plain, event-by-event reference simulator of SPEC-MULTI sections 1-4, for ONE system.

Written from the specification alone (never from ``gym_mecoffload``), so that the batched
numpy core can be tested against it. Clarity over speed: plain floats and lists, one task
at a time, in dispatch order.

Nothing here is random. Everything random in an episode (arrivals and task fields, every
link's bandwidth per slot, every transfer's attempt count, the order of users within each
slot) is an *input*: an :class:`Episode`. The decisions are an input too, either all at
once (:func:`simulate`) or slot by slot (:meth:`ReferenceSimulator.step`).

Units are SI: seconds, Hz (cycles/s), bytes, bytes/s, watts, joules.

Places of a task of user u (``Discrete(1 + 2S)``): ``0`` its device, ``1 + s`` edge server
s, ``1 + S + s`` the cloud through server s.

Readings of the specification that it leaves open (each one is a choice made here; the
implementation must make the same one or the test must say where they differ):

R1  Slot of a time x: ``floor(x / slot_seconds)``, where x within ``SLOT_SNAP`` (relative)
    of a boundary counts as on it, so a transfer starting exactly at a slot boundary uses
    the new slot's rate.
R2  Attempts are supplied per task and per transfer leg: ``"up"`` (device -> server, over
    the user's link), ``"backhaul_up"`` (server -> cloud), ``"backhaul_down"`` (cloud ->
    server), ``"down"`` (server -> device, over the user's link). A missing leg has 1
    attempt. Each leg lasts ``attempts * bytes / rate``, the rate of the slot in which the
    leg starts (SPEC-MULTI section 3); the backhaul rate is ``cloud_bandwidth[s]`` (static,
    SPEC-MULTI section 1) unless the episode gives a per-slot ``backhaul_bandwidth``.
R3  The cloud path is sequential with no waiting between legs: upload, then the backhaul
    up from the upload's end, the cloud run from the backhaul's end for ``cycles /
    cloud_hz`` (0 when infinite), the backhaul down from the run's end, the downlink from
    there. Only the device CPU, the user's radio, the server's uplink sub-channels and the
    edge CPU contend; every other leg starts the moment its input is ready.
R4  ``free_at`` bookkeeping only: a resource is booked from ``max(ready, free_at)`` and its
    ``free_at`` becomes the booking's end. No back-filling of idle gaps left by earlier
    bookings (SPEC-MULTI: "books each resource from the later of its readiness and the
    resource's free_at"). The radio serves uploads only (downlinks do not contend).
R5  Sub-channels: the upload starts at ``max(a, radio_free[u], min_i channel_free[s][i])``
    and takes the earliest free sub-channel (lowest index among ties). With unlimited
    sub-channels (``None``) the channel term is absent.
R6  Buffer: only tasks placed on edge s (place ``1 + s``) are "booked on s"; tasks sent to
    the cloud through s pass through without occupying its buffer and are never dropped.
    At the new task's upload end x, the tasks counted are the earlier-booked, not dropped
    tasks j on edge s with ``upload_end_j <= x < run_end_j`` (arrived at or before x; not
    finished, where finishing is the end of the edge *run*, not the result's return). The
    task is dropped when that count is ``>= buffer[s]``. Tasks booked later never count
    (dispatch order), even if their uploads end earlier.
R7  A dropped task has used its radio and sub-channel (the upload happened, so the device
    spent the upload's transmit energy) but books neither the edge CPU nor the downlink; it
    has no latency, is never delivered (AoI) and is not also a "miss".
R8  Costs per objective (``costs`` of a :class:`TaskRecord`):
    - ``latency``: ``class_weights[k] * latency``; a drop costs
      ``class_weights[k] * drop_penalty(task)`` (the penalty, in seconds, stands in for the
      latency, and is weighted like it).
    - ``energy``: the device's joules: ``kappa * cycles * device_hz**2`` on the device;
      ``tx_power * (upload's duration)`` plus ``rx_power * (downlink's duration)`` when
      offloaded, attempts included (each attempt resends the bytes). Backhaul and cloud
      cost the device nothing. Not class-weighted; a drop costs its upload's energy only.
    - ``weighted``: ``weight * costs["latency"] + (1 - weight) * costs["energy"]``.
    - ``deadline``: 1 for a miss (``latency > deadline``, strict) or a drop, else 0.
R9  ``relative`` normaliser of a task arriving in slot t: for each place, the task booked
    alone (every resource free at its arrival, empty buffers), every leg at slot t's rates
    (the "current bandwidths": ``edge_bandwidth[t][u][s]`` and slot t's backhaul rate) and
    one attempt per leg (attempts are not known at placement); the least of those costs
    under each objective. ``relative = cost / normaliser``; ``None`` where the normaliser is
    0 (it is for ``deadline`` whenever some place meets the deadline alone: a gap in the
    spec).
R10 AoI: ``age_u(x) = x - g_u(x)``, ``g_u(x)`` the largest generation time (the arrival
    time a) among user u's results back on the device by time x, and 0 when there is none
    (reset). An older update delivered after a newer one does not raise the age. Slot t's
    AoI is ``sum_u aoi_weights[u] * integral_{t*dt}^{(t+1)*dt} age_u``, exact. Its
    ``relative`` form is that divided by ``slot_seconds**2`` (age in slots integrated over
    time in slots, so scale-free).
R11 Placement order in slot t: users with a task, sorted by decreasing
    ``class_weights[k]`` of their task, ties in the order of ``episode.order[t]`` (a
    permutation of the users; the identity when not given).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

LEGS = ("up", "backhaul_up", "backhaul_down", "down")
OBJECTIVES = ("latency", "energy", "weighted", "deadline")
SLOT_SNAP = 1e-9


# ---------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Task:
    """One task. ``attempts`` maps a leg of ``LEGS`` to its attempt count (missing: 1)."""

    cycles: float
    input_data: float
    output_data: float
    deadline: float
    k: int = 0
    attempts: Mapping[str, int] = field(default_factory=dict)

    def attempts_of(self, leg: str) -> int:
        if leg not in LEGS:
            raise ValueError(f"unknown transfer leg {leg!r}; legs are {LEGS}")
        n = self.attempts.get(leg, 1)
        if int(n) != n or n < 1:
            raise ValueError(f"attempts must be whole numbers >= 1, got {leg}={n!r}")
        return int(n)


def twice_the_deadline(task: Task) -> float:
    """The default ``drop_penalty`` (seconds)."""
    return 2.0 * task.deadline


@dataclass(frozen=True)
class System:
    """The fixed parameters of one system (SPEC-MULTI section 1, SPEC.md section 1)."""

    device_hz: Sequence[float]  # U
    edge_hz: Sequence[float]  # S
    cloud_bandwidth: Sequence[float]  # S, bytes/s
    uplink_channels: Sequence[int | None] | None = None  # S; None: unlimited
    buffer: Sequence[int | None] | None = None  # S; None: unlimited
    cloud_hz: float = math.inf
    slot_seconds: float = 1.0
    horizon: int = 1
    class_weights: Sequence[float] = (1.0,)
    drop_penalty: Callable[[Task], float] = twice_the_deadline
    aoi_weights: Sequence[float] | None = None  # U; None: all 1
    kappa: float = 1e-27
    tx_power: float = 0.5
    rx_power: float = 0.1
    weight: float = 0.5  # w of the weighted objective

    def __post_init__(self) -> None:
        U, S = len(self.device_hz), len(self.edge_hz)
        if U < 1 or S < 1:
            raise ValueError("need at least one user and one server")
        if len(self.cloud_bandwidth) != S:
            raise ValueError("cloud_bandwidth needs one entry per server")
        for name in ("uplink_channels", "buffer"):
            values = getattr(self, name)
            if values is not None and len(values) != S:
                raise ValueError(f"{name} needs one entry per server")
        if self.aoi_weights is not None and len(self.aoi_weights) != U:
            raise ValueError("aoi_weights needs one entry per user")
        for hz in list(self.device_hz) + list(self.edge_hz) + [self.cloud_hz]:
            if not hz > 0:
                raise ValueError("CPU speeds must be > 0")
        for c in self.uplink_channels or ():
            if c is not None and c < 1:
                raise ValueError("uplink_channels must be >= 1 or None")
        for b in self.buffer or ():
            if b is not None and b < 0:
                raise ValueError("buffer must be >= 0 or None")
        if not self.slot_seconds > 0 or self.horizon < 1:
            raise ValueError("slot_seconds must be > 0 and horizon >= 1")

    @property
    def U(self) -> int:
        return len(self.device_hz)

    @property
    def S(self) -> int:
        return len(self.edge_hz)

    @property
    def n_places(self) -> int:
        return 1 + 2 * self.S

    def channels_of(self, s: int) -> int | None:
        return None if self.uplink_channels is None else self.uplink_channels[s]

    def buffer_of(self, s: int) -> int | None:
        return None if self.buffer is None else self.buffer[s]

    def aoi_weight(self, u: int) -> float:
        return 1.0 if self.aoi_weights is None else float(self.aoi_weights[u])

    def slot_of(self, x: float) -> int:
        """The slot holding time x (R1: a time on a boundary belongs to the later slot)."""
        q = x / self.slot_seconds
        nearest = round(q)
        if abs(q - nearest) <= SLOT_SNAP * max(1.0, abs(q)):
            return int(nearest)
        return math.floor(q)

    def describe_place(self, place: int) -> tuple[str, int | None]:
        """``("device", None)``, ``("edge", s)`` or ``("cloud", s)``."""
        if not 0 <= place < self.n_places:
            raise ValueError(f"place {place} is outside 0..{self.n_places - 1}")
        if place == 0:
            return "device", None
        if place <= self.S:
            return "edge", place - 1
        return "cloud", place - 1 - self.S


@dataclass(frozen=True)
class Episode:
    """Everything random of one episode, drawn beforehand.

    ``tasks[t][u]``: user u's new task at the start of slot t, or None (T rows of U).
    ``edge_bandwidth[k][u][s]``: bytes/s of link (u, s) in slot k; at least T slots, and as
    many more as there are slots in which some transfer starts (the "tail").
    ``order[t]``: the slot's random order of users (a permutation); None: the identity.
    ``backhaul_bandwidth[k][s]``: per-slot backhaul rates; None: ``cloud_bandwidth`` always.
    """

    tasks: Sequence[Sequence[Task | None]]
    edge_bandwidth: Sequence[Sequence[Sequence[float]]]
    order: Sequence[Sequence[int]] | None = None
    backhaul_bandwidth: Sequence[Sequence[float]] | None = None


def static_links(rates: Sequence[Sequence[float]], slots: int) -> list[list[list[float]]]:
    """``edge_bandwidth`` for a static channel: ``rates[u][s]`` in each of ``slots`` slots."""
    return [[list(row) for row in rates] for _ in range(slots)]


# ---------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class Reservation:
    """One stage of a task's timeline on one resource.

    ``resource``: ``("device_cpu", u)``, ``("radio", u)``, ``("uplink", s, i)`` (i: the
    sub-channel, None when unlimited), ``("edge_cpu", s)``, ``("backhaul_up", s)``,
    ``("cloud_cpu",)``, ``("backhaul_down", s)``, ``("downlink", s, u)``. Only the first
    four kinds contend (``contended``).
    """

    resource: tuple
    start: float
    end: float

    @property
    def kind(self) -> str:
        return self.resource[0]

    @property
    def contended(self) -> bool:
        return self.kind in ("device_cpu", "radio", "uplink", "edge_cpu")


@dataclass
class TaskRecord:
    slot: int
    user: int
    place: int
    task: Task
    arrival: float
    kind: str  # "device", "edge" or "cloud"
    server: int | None
    reservations: list[Reservation]
    dropped: bool
    drop_time: float | None  # the upload's end, for a dropped task
    done: float | None  # the result back on the device
    latency: float | None
    missed: bool
    energy: float
    costs: dict[str, float]
    normaliser: dict[str, float]
    relative: dict[str, float | None]

    def stage(self, kind: str) -> Reservation:
        """The reservation of one kind (e.g. ``"edge_cpu"``); KeyError if there is none."""
        for r in self.reservations:
            if r.kind == kind:
                return r
        raise KeyError(kind)

    def has_stage(self, kind: str) -> bool:
        return any(r.kind == kind for r in self.reservations)


@dataclass
class SlotRecord:
    t: int
    placement_order: list[int]  # users with a task, in the order their tasks were placed
    tasks: list[TaskRecord]  # in that order
    cost: dict[str, float]  # sum of the tasks' costs per objective (reward = -cost)
    relative: dict[str, float | None]  # sum of relative costs (None if any is None)
    aoi_per_user: list[float]  # integral of age_u over the slot (unweighted)
    aoi: float  # sum_u aoi_weights[u] * aoi_per_user[u]
    aoi_relative: float  # aoi / slot_seconds**2 (R10)


@dataclass
class EpisodeResult:
    slots: list[SlotRecord]

    @property
    def tasks(self) -> list[TaskRecord]:
        """Every task in dispatch order."""
        return [r for slot in self.slots for r in slot.tasks]


# ---------------------------------------------------------------------------- the core


class _Resources:
    """The contended resources' ``free_at`` times and the buffers' bookings."""

    def __init__(self, system: System) -> None:
        self.cpu_free = [0.0] * system.U
        self.radio_free = [0.0] * system.U
        self.channel_free: list[list[float] | None] = []
        for s in range(system.S):
            c = system.channels_of(s)
            self.channel_free.append(None if c is None else [0.0] * c)
        self.edge_free = [0.0] * system.S
        # Per server: (upload end, run end) of every task booked on edge s, not dropped.
        self.on_edge: list[list[tuple[float, float]]] = [[] for _ in range(system.S)]


def _transfer(start: float, data: float, attempts: int, rate: float) -> float:
    """The end of a transfer of ``data`` bytes starting at ``start`` at ``rate`` bytes/s."""
    if not rate > 0:
        raise ValueError(f"a transfer needs a bandwidth > 0, got {rate}")
    return start + attempts * data / rate


def _book(
    system: System,
    res: _Resources,
    task: Task,
    user: int,
    place: int,
    a: float,
    link_rate: Callable[[int, int], float],
    backhaul_rate: Callable[[int, int], float],
    attempts: Callable[[str], int],
) -> tuple[list[Reservation], float | None, float | None, float]:
    """Book one task arriving at ``a``; returns (reservations, done, drop_time, energy).

    ``link_rate(k, s)``: user's link to s in slot k; ``backhaul_rate(k, s)``: likewise.
    ``done`` is None for a dropped task, ``drop_time`` None for one that is not.
    """
    kind, s = system.describe_place(place)
    out: list[Reservation] = []

    if kind == "device":
        start = max(a, res.cpu_free[user])
        end = start + task.cycles / system.device_hz[user]
        res.cpu_free[user] = end
        out.append(Reservation(("device_cpu", user), start, end))
        energy = system.kappa * task.cycles * system.device_hz[user] ** 2
        return out, end, None, energy

    # Upload: the user's radio and the earliest free sub-channel of s (R5).
    assert s is not None
    channels = res.channel_free[s]
    ready = max(a, res.radio_free[user])
    channel = None
    if channels is not None:
        channel = min(range(len(channels)), key=lambda i: (channels[i], i))
        ready = max(ready, channels[channel])
    up_start = ready
    up_end = _transfer(
        up_start,
        task.input_data,
        attempts("up"),
        link_rate(system.slot_of(up_start), s),
    )
    res.radio_free[user] = up_end
    if channels is not None:
        channels[channel] = up_end
    out.append(Reservation(("radio", user), up_start, up_end))
    out.append(Reservation(("uplink", s, channel), up_start, up_end))
    energy = system.tx_power * (up_end - up_start)

    if kind == "edge":
        # Buffer check at the upload's end (R6).
        cap = system.buffer_of(s)
        if cap is not None:
            present = sum(1 for arr, fin in res.on_edge[s] if arr <= up_end < fin)
            if present >= cap:
                return out, None, up_end, energy
        run_start = max(up_end, res.edge_free[s])
        run_end = run_start + task.cycles / system.edge_hz[s]
        res.edge_free[s] = run_end
        res.on_edge[s].append((up_end, run_end))
        out.append(Reservation(("edge_cpu", s), run_start, run_end))
        back_from = run_end
    else:  # cloud through s (R3)
        bh_up_end = _transfer(
            up_end,
            task.input_data,
            attempts("backhaul_up"),
            backhaul_rate(system.slot_of(up_end), s),
        )
        out.append(Reservation(("backhaul_up", s), up_end, bh_up_end))
        run_end = bh_up_end + task.cycles / system.cloud_hz  # 0 when cloud_hz is inf
        out.append(Reservation(("cloud_cpu",), bh_up_end, run_end))
        bh_down_end = _transfer(
            run_end,
            task.output_data,
            attempts("backhaul_down"),
            backhaul_rate(system.slot_of(run_end), s),
        )
        out.append(Reservation(("backhaul_down", s), run_end, bh_down_end))
        back_from = bh_down_end

    down_end = _transfer(
        back_from,
        task.output_data,
        attempts("down"),
        link_rate(system.slot_of(back_from), s),
    )
    out.append(Reservation(("downlink", s, user), back_from, down_end))
    energy += system.rx_power * (down_end - back_from)
    return out, down_end, None, energy


def _costs(
    system: System, task: Task, latency: float | None, energy: float
) -> tuple[dict[str, float], bool]:
    """Costs under every objective (R8) and whether the task missed its deadline."""
    w = system.class_weights[task.k]
    dropped = latency is None
    missed = (not dropped) and latency > task.deadline
    lat_cost = w * (system.drop_penalty(task) if dropped else latency)
    costs = {
        "latency": lat_cost,
        "energy": energy,
        "weighted": system.weight * lat_cost + (1.0 - system.weight) * energy,
        "deadline": 1.0 if (dropped or missed) else 0.0,
    }
    return costs, missed


def costs_alone(
    system: System,
    task: Task,
    user: int,
    arrival: float,
    link_rates: Sequence[float],
    backhaul_rates: Sequence[float],
    attempts: Mapping[str, int] | None = None,
) -> list[dict[str, float]]:
    """Per place, the task's costs booked alone: empty queues, rates held constant.

    ``link_rates[s]``: the user's link to each server; ``backhaul_rates[s]``: the backhauls.
    ``attempts``: per leg, default one each (R9).
    """
    legs = dict(attempts or {})
    out = []
    for place in range(system.n_places):
        res = _Resources(system)
        _, done, _, energy = _book(
            system,
            res,
            task,
            user,
            place,
            arrival,
            lambda k, s: link_rates[s],
            lambda k, s: backhaul_rates[s],
            lambda leg: legs.get(leg, 1),
        )
        latency = None if done is None else done - arrival
        out.append(_costs(system, task, latency, energy)[0])
    return out


def best_alone(
    system: System,
    task: Task,
    user: int,
    arrival: float,
    link_rates: Sequence[float],
    backhaul_rates: Sequence[float],
    attempts: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """The ``relative`` normaliser: per objective, the least cost alone over the places."""
    per_place = costs_alone(system, task, user, arrival, link_rates, backhaul_rates, attempts)
    return {obj: min(c[obj] for c in per_place) for obj in OBJECTIVES}


def age_integral(deliveries: Sequence[tuple[float, float]], lo: float, hi: float) -> float:
    """Exact ``integral_lo^hi (x - g(x)) dx`` for ``deliveries`` of (generation, done) (R10)."""
    g = 0.0
    for gen, done in deliveries:
        if done <= lo:
            g = max(g, gen)
    total = 0.0
    x = lo
    for done, gen in sorted((d, gn) for gn, d in deliveries if lo < d < hi):
        total += (done * done - x * x) / 2.0 - g * (done - x)
        x = done
        g = max(g, gen)
    total += (hi * hi - x * x) / 2.0 - g * (hi - x)
    return total


class ReferenceSimulator:
    """Steps one system slot by slot; ``step(places)`` places slot t's tasks."""

    def __init__(self, system: System, episode: Episode) -> None:
        T = system.horizon
        if len(episode.tasks) < T:
            raise ValueError(f"episode.tasks needs {T} slots, got {len(episode.tasks)}")
        for row in episode.tasks[:T]:
            if len(row) != system.U:
                raise ValueError("every slot of episode.tasks needs one entry per user")
            for task in row:
                if task is not None and not 0 <= task.k < len(system.class_weights):
                    raise ValueError(f"task class {task.k} has no class weight")
        if episode.order is not None:
            for t in range(T):
                if sorted(episode.order[t]) != list(range(system.U)):
                    raise ValueError(f"order[{t}] is not a permutation of the users")
        self.system = system
        self.episode = episode
        self.res = _Resources(system)
        self.t = 0
        self.records: list[TaskRecord] = []
        self.slots: list[SlotRecord] = []

    # Rates of the slot in which a transfer starts (SPEC-MULTI section 3).
    def link_rate(self, k: int, u: int, s: int) -> float:
        rates = self.episode.edge_bandwidth
        if not 0 <= k < len(rates):
            raise ValueError(
                f"a transfer starts in slot {k} but edge_bandwidth has {len(rates)} slots"
            )
        return float(rates[k][u][s])

    def backhaul_rate(self, k: int, s: int) -> float:
        rates = self.episode.backhaul_bandwidth
        if rates is None:
            return float(self.system.cloud_bandwidth[s])
        if not 0 <= k < len(rates):
            raise ValueError(
                f"a backhaul transfer starts in slot {k} but backhaul_bandwidth has "
                f"{len(rates)} slots"
            )
        return float(rates[k][s])

    def placement_order(self, t: int) -> list[int]:
        """Users with a task in slot t, in placement order (R11)."""
        system = self.system
        base = list(range(system.U)) if self.episode.order is None else self.episode.order[t]
        tasks = self.episode.tasks[t]
        with_task = [u for u in base if tasks[u] is not None]
        # sorted() is stable: ties keep the slot's random order.
        return sorted(with_task, key=lambda u: -system.class_weights[tasks[u].k])

    def step(self, places: Sequence[int]) -> SlotRecord:
        """Place slot t's tasks (``places[u]``; ignored for users without a task)."""
        system, t = self.system, self.t
        if t >= system.horizon:
            raise RuntimeError("the episode is over")
        if len(places) != system.U:
            raise ValueError("places needs one entry per user")
        a = t * system.slot_seconds
        order = self.placement_order(t)
        placed = []
        for u in order:
            task = self.episode.tasks[t][u]
            placed.append(self._place(t, u, task, int(places[u]), a))
        self.records.extend(placed)

        cost = {obj: sum(r.costs[obj] for r in placed) for obj in OBJECTIVES}
        relative: dict[str, float | None] = {}
        for obj in OBJECTIVES:
            values = [r.relative[obj] for r in placed]
            relative[obj] = None if any(v is None for v in values) else sum(values)

        lo, hi = a, a + system.slot_seconds
        aoi_per_user = []
        for u in range(system.U):
            deliveries = [
                (r.arrival, r.done) for r in self.records if r.user == u and not r.dropped
            ]
            aoi_per_user.append(age_integral(deliveries, lo, hi))
        aoi = sum(system.aoi_weight(u) * aoi_per_user[u] for u in range(system.U))
        record = SlotRecord(
            t=t,
            placement_order=order,
            tasks=placed,
            cost=cost,
            relative=relative,
            aoi_per_user=aoi_per_user,
            aoi=aoi,
            aoi_relative=aoi / system.slot_seconds**2,
        )
        self.slots.append(record)
        self.t += 1
        return record

    def _place(self, t: int, u: int, task: Task, place: int, a: float) -> TaskRecord:
        system = self.system
        kind, s = system.describe_place(place)
        reservations, done, drop_time, energy = _book(
            system,
            self.res,
            task,
            u,
            place,
            a,
            lambda k, srv: self.link_rate(k, u, srv),
            self.backhaul_rate,
            task.attempts_of,
        )
        latency = None if done is None else done - a
        costs, missed = _costs(system, task, latency, energy)
        normaliser = best_alone(
            system,
            task,
            u,
            a,
            [self.link_rate(t, u, srv) for srv in range(system.S)],
            [self.backhaul_rate(t, srv) for srv in range(system.S)],
        )
        relative = {
            obj: (costs[obj] / normaliser[obj] if normaliser[obj] > 0 else None)
            for obj in OBJECTIVES
        }
        return TaskRecord(
            slot=t,
            user=u,
            place=place,
            task=task,
            arrival=a,
            kind=kind,
            server=s,
            reservations=reservations,
            dropped=done is None,
            drop_time=drop_time,
            done=done,
            latency=latency,
            missed=missed,
            energy=energy,
            costs=costs,
            normaliser=normaliser,
            relative=relative,
        )


def simulate(
    system: System,
    episode: Episode,
    decisions: Sequence[Sequence[int]] | Callable[[int, ReferenceSimulator], Sequence[int]],
) -> EpisodeResult:
    """Run the whole episode.

    ``decisions[t][u]`` is the place of user u's task in slot t, or ``decisions(t, sim)``
    returns slot t's places (closed loop: ``sim.records`` and ``sim.res`` are the state).
    """
    sim = ReferenceSimulator(system, episode)
    for t in range(system.horizon):
        places = decisions(t, sim) if callable(decisions) else decisions[t]
        sim.step(places)
    return EpisodeResult(slots=sim.slots)
