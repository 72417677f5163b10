"""The multi-user model (SPEC-MULTI sections 1, 2 and 7): a scenario's ranges and sizes, and
the draw of everything random in an episode.

U users (devices) share S edge servers and the cloud. Time is slotted (``slot_seconds``,
Δ); in each of ``horizon`` (T) slots every user receives at most one task. Units are SI
throughout: seconds, Hz (cycles/s), bytes, bytes/s, watts, joules.

Places of a task of user u (``Discrete(1 + 2S)``): ``0`` its device, ``1 + s`` edge server
s, ``1 + S + s`` the cloud through server s.

Choices where the specification is silent (the reference simulator of the tests,
``tests/multi/reference.py``, makes the same ones and names them R1-R11):

* Each link (u, s) has a mean bandwidth drawn per episode from the ``edge_bandwidth``
  range; a channel law of SPEC-CHANNELS section 2 varies it per slot, scaled to that mean:
  ``iid`` uniform on ``mean * [1 - spread, 1 + spread]``; ``markov`` on K levels, the
  midpoints of K equal parts of that interval; ``rayleigh`` ``mean * log2(1 + snr g) /
  log2(1 + snr)`` with g ~ Exp(1) (the mean is the rate at the mean gain), floored at
  ``min_bandwidth``.
* Bandwidths are drawn for ``2 T`` slots; a transfer that starts later than that (queues
  outlive the horizon) meets the last drawn slot's rate.
* A transfer has four legs, each with its own attempt count (Geometric(1 - q)): up
  (device to server), backhaul up, backhaul down, down. Backhauls are static.
* ``arrivals="mmpp"``: an on-off Markov-modulated Bernoulli process per user: on with
  arrival probability ``min(1, 2 p)``, off with none, staying in its state with
  probability ``burst_stay`` (so the long-run rate is ``min(1, 2 p) / 2``: p for p <= 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from gym_mecoffload.channels.processes import MarkovLink, RayleighLink
from gym_mecoffload.core.checks import check_count, real_array, real_number

CHANNELS = ("static", "iid", "markov", "rayleigh")
ARRIVALS = ("bernoulli", "mmpp")
LEGS = ("up", "backhaul_up", "backhaul_down", "down")  # a transfer's legs, attempts each
TAIL_FACTOR = 2  # bandwidths are drawn for TAIL_FACTOR * horizon slots
# The ranges a task or a platform is drawn from, (low, high) in SI units.
RANGE_FIELDS = {
    "device_hz": "Hz",
    "edge_hz": "Hz",
    "edge_bandwidth": "bytes/s",
    "cloud_bandwidth": "bytes/s",
    "cycles": "CPU cycles",
    "input_data": "bytes",
    "output_data": "bytes",
    "deadline": "s",
}
# A value must stay where every latency, energy and observation is finite.
LARGEST = 1e30
SMALLEST = 1e-30


def _range(name: str, value: Any) -> tuple[float, float]:
    """A (low, high) range in SI units from a number (a fixed value) or a pair."""
    unit = RANGE_FIELDS[name]
    if isinstance(value, (tuple, list, np.ndarray)):
        array = real_array(name, value, unit)
        if array.shape != (2,):
            raise ValueError(
                f"{name} must be a number or a (low, high) pair ({unit}); got {value!r}"
            )
        low, high = float(array[0]), float(array[1])
    else:
        low = high = real_number(name, value)
    zero_ok = name in ("cycles", "input_data", "output_data")
    least = 0.0 if zero_ok else SMALLEST
    if not (math.isfinite(low) and math.isfinite(high)) or not least <= low <= high <= LARGEST:
        allowed = ">= 0" if zero_ok else f">= {SMALLEST:g}"
        raise ValueError(
            f"{name} must be a range low <= high, both finite, {allowed} and <= {LARGEST:g} "
            f"({unit}); got {value!r}"
        )
    return low, high


def _per(name: str, value: Any, size: int, what: str, unit: str) -> np.ndarray:
    """A number for every one of ``size`` ``what`` (users, servers, classes), or one for all."""
    array = real_array(name, value, unit)
    if array.ndim == 0:
        array = np.full(size, float(array))
    if array.shape != (size,):
        raise ValueError(
            f"{name} must be a number or hold one per {what} ({size}); got shape {array.shape}"
        )
    return array


def _capacities(name: str, value: Any, servers: int, what: str) -> np.ndarray:
    """Per-server counts (sub-channels, buffer places) >= 1, with 0 for unlimited (None)."""
    values = value if isinstance(value, (list, tuple, np.ndarray)) else [value] * servers
    if len(values) != servers:
        raise ValueError(
            f"{name} must be None, a count, or one per server ({servers}); got {value!r}"
        )
    out = np.zeros(servers, dtype=np.int64)
    # The validated form (an int64 array, 0 for unlimited) passes again on a replace().
    internal = isinstance(value, np.ndarray) and value.dtype == np.int64
    for s, v in enumerate(values):
        if v is None or (internal and v == 0):
            continue
        out[s] = check_count(f"{name}[{s}]", v, 1, 10_000, f" ({what}; None for unlimited)")
    return out


@dataclass(frozen=True)
class MultiScenario:
    """Sizes, laws and ranges of a multi-user system (SPEC-MULTI), validated on construction.

    Ranges are ``(low, high)`` pairs in SI units (a number fixes the value) from which each
    episode draws its platform (per user: ``device_hz``; per server: ``edge_hz``,
    ``cloud_bandwidth``; per link: the mean ``edge_bandwidth``) and its tasks
    (``cycles``, ``input_data``, ``output_data``, ``deadline``), uniformly. With
    ``task_types`` (rows of cycles, input_data, output_data, deadline) a task is one of
    those rows instead, drawn with ``type_probabilities``.

    Attributes:
        users: U, devices (agents).
        servers: S, edge servers.
        horizon: T, slots per episode.
        slot_seconds: Δ, s.
        uplink_channels: (S,) sub-channels per server; 0 for unlimited.
        buffer: (S,) tasks a server holds (arrived, not finished); 0 for unlimited.
        cloud_hz: the cloud's CPU, Hz (inf: the paper's free cloud).
        channel: the link law, one of :data:`CHANNELS`.
        channel_spread: half-width of ``iid`` and ``markov`` links, relative to the mean.
        markov_levels, markov_stay: the ``markov`` law's K and stay probability.
        snr_db, min_bandwidth: the ``rayleigh`` law's mean SNR (dB) and floor (bytes/s).
        outage_probability: q in [0, 0.999]: each transfer attempt fails with it.
        arrivals: ``"bernoulli"`` or ``"mmpp"`` (bursty, module doc).
        arrival_probability: (U,) per slot.
        burst_stay: the ``mmpp`` state's stay probability.
        class_weights, class_probabilities: (K,) the priority classes.
        aoi_weights: (U,) the users' weights in the ``aoi`` objective.
        drop_penalty: seconds a dropped task costs; None for twice its deadline.
    """

    users: int = 10
    servers: int = 3
    horizon: int = 50
    slot_seconds: float = 0.1
    device_hz: tuple[float, float] = (0.5e9, 1.0e9)
    edge_hz: tuple[float, float] = (4e9, 10e9)
    cloud_hz: float = math.inf
    edge_bandwidth: tuple[float, float] = (1e6, 4e6)
    cloud_bandwidth: tuple[float, float] = (2e6, 4e6)
    uplink_channels: Any = 2
    buffer: Any = 8
    cycles: tuple[float, float] = (0.2e9, 0.6e9)
    input_data: tuple[float, float] = (0.1e6, 0.5e6)
    output_data: tuple[float, float] = (0.01e6, 0.05e6)
    deadline: tuple[float, float] = (0.5, 1.5)
    task_types: Any = None
    type_probabilities: Any = None
    channel: str = "iid"
    channel_spread: float = 0.5
    markov_levels: int = 4
    markov_stay: float = 0.7
    snr_db: float = 10.0
    min_bandwidth: float = 1e4
    outage_probability: float = 0.0
    arrivals: str = "bernoulli"
    arrival_probability: Any = 0.5
    burst_stay: float = 0.9
    class_weights: Any = (1.0, 2.0)
    class_probabilities: Any = (0.7, 0.3)
    aoi_weights: Any = 1.0
    drop_penalty: float | None = None
    name: str = field(default="custom", compare=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        U = check_count("users", self.users, 1, 10_000)
        S = check_count("servers", self.servers, 1, 1_000)
        put(self, "users", U)
        put(self, "servers", S)
        put(self, "horizon", check_count("horizon", self.horizon, 1, 1_000_000, " (slots)"))
        dt = real_number("slot_seconds", self.slot_seconds)
        if not SMALLEST <= dt <= LARGEST:
            raise ValueError(f"slot_seconds must be in [{SMALLEST:g}, {LARGEST:g}] s; got {dt!r}")
        put(self, "slot_seconds", dt)
        for name in RANGE_FIELDS:
            put(self, name, _range(name, getattr(self, name)))
        hz = real_number("cloud_hz", self.cloud_hz)
        if not (hz >= SMALLEST and (math.isinf(hz) or hz <= LARGEST)):
            raise ValueError(
                f"cloud_hz must be inf or in [{SMALLEST:g}, {LARGEST:g}] Hz; got {hz!r}"
            )
        put(self, "cloud_hz", hz)
        put(
            self,
            "uplink_channels",
            _capacities("uplink_channels", self.uplink_channels, S, "sub-channels"),
        )
        put(self, "buffer", _capacities("buffer", self.buffer, S, "tasks"))
        if self.task_types is not None:
            types = real_array("task_types", self.task_types, "cycles, bytes, bytes, s")
            if types.ndim != 2 or types.shape[1] != 4 or len(types) < 1:
                raise ValueError(
                    "task_types must be rows of (cycles, input_data, output_data, deadline); "
                    f"got shape {types.shape}"
                )
            for j, name in enumerate(("cycles", "input_data", "output_data", "deadline")):
                for value in types[:, j]:
                    _range(name, float(value))
            probs = _probabilities(
                "type_probabilities", self.type_probabilities, len(types), "task type"
            )
            types.setflags(write=False)
            put(self, "task_types", types)
            put(self, "type_probabilities", probs)
        elif self.type_probabilities is not None:
            raise ValueError("type_probabilities needs task_types")
        if not isinstance(self.channel, str) or self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}; got {self.channel!r}")
        spread = real_number("channel_spread", self.channel_spread)
        if not 0.0 <= spread < 1.0:
            raise ValueError(f"channel_spread must be in [0, 1); got {spread!r}")
        put(self, "channel_spread", spread)
        put(self, "markov_levels", check_count("markov_levels", self.markov_levels, 1, 1_000))
        for name in ("markov_stay", "burst_stay"):
            p = real_number(name, getattr(self, name))
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1]; got {p!r}")
            put(self, name, p)
        snr = real_number("snr_db", self.snr_db)
        if not -100.0 <= snr <= 100.0:
            raise ValueError(f"snr_db must be in [-100, 100] dB; got {snr!r}")
        put(self, "snr_db", snr)
        floor = real_number("min_bandwidth", self.min_bandwidth)
        if not SMALLEST <= floor <= self.edge_bandwidth[0]:
            raise ValueError(
                f"min_bandwidth must be in [{SMALLEST:g}, the least edge_bandwidth "
                f"{self.edge_bandwidth[0]:g}] bytes/s; got {floor!r}"
            )
        put(self, "min_bandwidth", floor)
        q = real_number("outage_probability", self.outage_probability)
        if not 0.0 <= q <= 0.999:
            raise ValueError(
                "outage_probability must be in [0, 0.999] (at most 1,000 attempts per "
                f"transfer on average); got {q!r}"
            )
        put(self, "outage_probability", q)
        if not isinstance(self.arrivals, str) or self.arrivals not in ARRIVALS:
            raise ValueError(f"arrivals must be one of {ARRIVALS}; got {self.arrivals!r}")
        p = _per("arrival_probability", self.arrival_probability, U, "user", "per slot")
        if not ((p >= 0) & (p <= 1)).all():
            raise ValueError(
                f"arrival_probability must be in [0, 1]; got {self.arrival_probability!r}"
            )
        put(self, "arrival_probability", p)
        weights = real_array("class_weights", self.class_weights, "weights")
        if weights.ndim != 1 or len(weights) < 1 or not ((weights > 0) & (weights <= 1e6)).all():
            raise ValueError(
                f"class_weights must be one or more weights in (0, 1e6]; got {self.class_weights!r}"
            )
        put(self, "class_weights", weights)
        put(
            self,
            "class_probabilities",
            _probabilities("class_probabilities", self.class_probabilities, len(weights), "class"),
        )
        aoi = _per("aoi_weights", self.aoi_weights, U, "user", "weights")
        if not ((aoi >= 0) & (aoi <= 1e6)).all():
            raise ValueError(f"aoi_weights must be in [0, 1e6]; got {self.aoi_weights!r}")
        put(self, "aoi_weights", aoi)
        if self.drop_penalty is not None:
            pen = real_number("drop_penalty", self.drop_penalty)
            if not 0.0 <= pen <= LARGEST:
                raise ValueError(f"drop_penalty must be None or in [0, {LARGEST:g}] s; got {pen!r}")
            put(self, "drop_penalty", pen)
        for name in ("arrival_probability", "class_weights", "class_probabilities", "aoi_weights"):
            getattr(self, name).setflags(write=False)
        self.uplink_channels.setflags(write=False)
        self.buffer.setflags(write=False)

    @property
    def n_places(self) -> int:
        """Places of a task: the device, every server, the cloud through every server."""
        return 1 + 2 * self.servers

    @property
    def tail_slots(self) -> int:
        """Slots whose bandwidths an episode draws (module doc)."""
        return TAIL_FACTOR * self.horizon

    def with_options(self, **changes: Any) -> MultiScenario:
        """A copy with ``changes`` (validated again); unknown names are refused."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(
                f"unknown multi-user scenario arguments {unknown}; known: {sorted(known)}"
            )
        if "users" in changes or "servers" in changes:
            # Per-user and per-server values given as one number follow the new sizes.
            for name in ("arrival_probability", "aoi_weights"):
                if name not in changes and np.ptp(getattr(self, name)) == 0:
                    changes[name] = float(getattr(self, name)[0])
            for name in ("uplink_channels", "buffer"):
                if name not in changes and np.ptp(getattr(self, name)) == 0:
                    value = int(getattr(self, name)[0])
                    changes[name] = None if value == 0 else value
        return replace(self, **changes)

    def load(self) -> float:
        """Offered work over total edge capacity: expected cycles arriving per second over
        the sum of the servers' mean CPU speeds (SPEC-MULTI; 1 is saturation of the edge)."""
        if self.task_types is not None:
            cycles = float(self.type_probabilities @ self.task_types[:, 0])
        else:
            cycles = sum(self.cycles) / 2
        rate = float(self.arrival_probability.sum())
        if self.arrivals == "mmpp":
            rate = float(np.minimum(1.0, 2 * self.arrival_probability).sum() / 2)
        return rate * cycles / self.slot_seconds / (self.servers * sum(self.edge_hz) / 2)


def _probabilities(name: str, value: Any, size: int, what: str) -> np.ndarray:
    if value is None:
        return np.full(size, 1.0 / size)
    p = real_array(name, value, "probabilities")
    if p.shape != (size,) or not (p >= 0).all() or not abs(p.sum() - 1.0) <= 1e-9:
        raise ValueError(
            f"{name} must be {size} probabilities (one per {what}) summing to 1; got {value!r}"
        )
    return p / p.sum()


# The presets (SPEC-MULTI section 7). "multi" is the default; see docs/multi.md for the
# measurement behind its ranges.
PRESETS: dict[str, dict[str, Any]] = {
    "multi": {},
    # The paper's per-task ranges (SPEC.md section 1, Sec. 5.1) for each user, one server.
    "paper": {
        "users": 4,
        "servers": 1,
        "horizon": 20,
        "slot_seconds": 1.0,
        "device_hz": (100e6, 1000e6),
        "edge_hz": (500e6, 5000e6),
        "edge_bandwidth": (0.01e6, 2e6),
        "cloud_bandwidth": (0.01e6, 3e6),
        "cycles": (0.0, 2000e6),
        "input_data": (0.0, 10e6),
        "output_data": (0.0, 10e6),
        "deadline": (10.0, 30.0),
        "uplink_channels": None,
        "buffer": None,
        "channel": "static",
        "arrival_probability": 0.2,
        "class_weights": (1.0,),
        "class_probabilities": None,
        "min_bandwidth": 0.01e6,
    },
    # The exact tier: three task types and static links whose run and transfer times are
    # whole slots, so every backlog takes finitely many values. Six slots: the exact
    # expert solves it in about 20 s (seven take about 90 s; docs/multi.md).
    "tiny": {
        "users": 2,
        "servers": 2,
        "horizon": 6,
        "slot_seconds": 1.0,
        "device_hz": 0.5,
        "edge_hz": 1.0,
        "edge_bandwidth": 1.0,
        "cloud_bandwidth": 1.0,
        "uplink_channels": 1,
        "buffer": None,
        # cycles, input bytes, output bytes, deadline s. Alone, in slots: device 2 / 4 / 6,
        # edge 2 / 3 / 6, cloud 2 / 2 / 6.
        "task_types": ((1.0, 1.0, 0.0, 3.0), (2.0, 1.0, 0.0, 4.0), (3.0, 2.0, 1.0, 6.0)),
        "type_probabilities": (0.4, 0.4, 0.2),
        "channel": "static",
        "arrival_probability": 0.5,
        "class_weights": (1.0,),
        "class_probabilities": None,
        "min_bandwidth": 1.0,
    },
}


def make_scenario(scenario: str | MultiScenario = "multi", **changes: Any) -> MultiScenario:
    """A validated scenario: a preset's name (``"multi"``, ``"paper"``, ``"tiny"``) or a
    :class:`MultiScenario`, with every keyword argument a change of one field."""
    if isinstance(scenario, MultiScenario):
        return scenario.with_options(**changes) if changes else scenario
    if not isinstance(scenario, str) or scenario not in PRESETS:
        raise ValueError(
            f"scenario must be one of {sorted(PRESETS)} or a MultiScenario; got {scenario!r}"
        )
    base = MultiScenario(**PRESETS[scenario], name=scenario)
    return base.with_options(**changes) if changes else base


@dataclass(frozen=True)
class MultiEpisodes:
    """Everything random of B episodes, drawn at reset (SPEC-MULTI section 2).

    Attributes:
        device_hz: (B, U) Hz. edge_hz: (B, S) Hz. cloud_bandwidth: (B, S) bytes/s.
        mean_bandwidth: (B, U, S) each link's mean, bytes/s.
        arrive: (B, T, U) whether user u receives a task at the start of slot t.
        cycles, input_data, output_data, deadline: (B, T, U) the tasks (0 where none).
        k: (B, T, U) the tasks' priority classes.
        order: (B, T, U) each slot's random order of users (a permutation).
        bandwidth: (B, 2T, U, S) every link's rate per slot, bytes/s.
        attempts: (B, T, U, 4) attempts of each leg of :data:`LEGS`.
    """

    device_hz: np.ndarray
    edge_hz: np.ndarray
    cloud_bandwidth: np.ndarray
    mean_bandwidth: np.ndarray
    arrive: np.ndarray
    cycles: np.ndarray
    input_data: np.ndarray
    output_data: np.ndarray
    deadline: np.ndarray
    k: np.ndarray
    order: np.ndarray
    bandwidth: np.ndarray
    attempts: np.ndarray

    @property
    def size(self) -> int:
        return len(self.arrive)

    def select(self, index: Any) -> MultiEpisodes:
        """The episodes at ``index`` (an index array or slice)."""
        return MultiEpisodes(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def draw_episodes(scenario: MultiScenario, size: int, rng: np.random.Generator) -> MultiEpisodes:
    """``size`` episodes from ``rng``, in a fixed order of draws (a seed fixes them)."""
    sc = scenario
    B, T, U, S = size, sc.horizon, sc.users, sc.servers

    def uniform(bounds: tuple[float, float], shape: tuple[int, ...]) -> np.ndarray:
        low, high = bounds
        return np.full(shape, low) if low == high else rng.uniform(low, high, size=shape)

    device_hz = uniform(sc.device_hz, (B, U))
    edge_hz = uniform(sc.edge_hz, (B, S))
    cloud_bandwidth = uniform(sc.cloud_bandwidth, (B, S))
    mean = uniform(sc.edge_bandwidth, (B, U, S))
    p = sc.arrival_probability
    if sc.arrivals == "bernoulli":
        arrive = rng.random((B, T, U)) < p
    else:
        on = np.empty((B, T, U), dtype=bool)
        on[:, 0] = rng.random((B, U)) < 0.5
        stay = rng.random((B, T, U)) < sc.burst_stay
        for t in range(1, T):
            on[:, t] = np.where(stay[:, t], on[:, t - 1], ~on[:, t - 1])
        arrive = on & (rng.random((B, T, U)) < np.minimum(1.0, 2 * p))
    if sc.task_types is not None:
        kind = rng.choice(len(sc.task_types), size=(B, T, U), p=sc.type_probabilities)
        cycles, input_data, output_data, deadline = np.moveaxis(sc.task_types[kind], -1, 0)
    else:
        cycles = uniform(sc.cycles, (B, T, U))
        input_data = uniform(sc.input_data, (B, T, U))
        output_data = uniform(sc.output_data, (B, T, U))
        deadline = uniform(sc.deadline, (B, T, U))
    k = rng.choice(len(sc.class_weights), size=(B, T, U), p=sc.class_probabilities)
    order = rng.random((B, T, U)).argsort(axis=-1)
    bandwidth = mean[:, None] * _link_factors(sc, rng, (B, sc.tail_slots, U, S))
    if sc.channel == "rayleigh":
        bandwidth = np.maximum(sc.min_bandwidth, bandwidth)
    if sc.outage_probability > 0:
        attempts = rng.geometric(1.0 - sc.outage_probability, size=(B, T, U, len(LEGS)))
    else:
        attempts = np.ones((B, T, U, len(LEGS)), dtype=np.int64)
    none = ~arrive
    for array in (cycles, input_data, output_data, deadline):
        array[none] = 0.0
    k = np.where(arrive, k, 0)
    return MultiEpisodes(
        device_hz,
        edge_hz,
        cloud_bandwidth,
        mean,
        arrive,
        cycles,
        input_data,
        output_data,
        deadline,
        k,
        order,
        bandwidth,
        attempts.astype(np.int64),
    )


def _link_factors(
    sc: MultiScenario, rng: np.random.Generator, shape: tuple[int, int, int, int]
) -> np.ndarray:
    """Per-slot rates relative to each link's mean (module doc), (B, K, U, S)."""
    B, K, U, S = shape
    low, high = 1.0 - sc.channel_spread, 1.0 + sc.channel_spread
    if sc.channel == "static":
        return np.ones(shape)
    if sc.channel == "iid":
        return rng.uniform(low, high, size=shape)
    if sc.channel == "markov":
        n = sc.markov_levels
        levels = low + (high - low) / n * (np.arange(n) + 0.5)
        law = MarkovLink(levels, sc.markov_stay)
        # One chain per link: (B * U * S, K), then slots to their axis.
        chains = law.sample_levels(rng, (B * U * S, K)).reshape(B, U, S, K)
        return levels[np.moveaxis(chains, -1, 1)]
    snr = 10.0 ** (sc.snr_db / 10.0)
    law = RayleighLink(width_hz=8.0 * math.log(2.0) / math.log1p(snr), snr=snr, floor=0.0)
    return law.sample(rng, shape)
