"""Channel processes: how the bandwidths b1 and b2 change from one transfer slot to the next,
and how often an unreliable transfer must be repeated (SPEC-CHANNELS sections 1 and 2).

A task of n subtasks has n + 1 transfer slots; :meth:`ChannelModel.realise` draws
every slot's bandwidths and attempt counts of a batch of tasks at once, from the
generator it is given (an env's ``np_random`` at reset), so a seed fixes an episode
whatever the agent does. The experts of :mod:`gym_mecoffload.channels.experts`
use each process's law through :meth:`ChannelModel.link_laws`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from gym_mecoffload.chain.model import TaskBatch, require_batch
from gym_mecoffload.core.checks import check_count, check_representable, real_array, real_number
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.scenario import Scenario, as_scenario

CHANNELS = ("static", "iid", "markov", "rayleigh")
LINKS = ("edge", "cloud")  # device <-> edge (b1), edge <-> cloud (b2)


def _pair(name: str, value: Any, unit: str) -> tuple[float, float]:
    """A per-link parameter: one number for both links, or an (edge, cloud) pair."""
    if isinstance(value, (tuple, list, np.ndarray)):
        array = real_array(name, value, unit)  # strings and bools refused, as by real_number
        if array.shape != (2,):
            raise ValueError(
                f"{name} must be a number or an (edge, cloud) pair ({unit}); got {value!r}"
            )
        return float(array[0]), float(array[1])
    number = real_number(name, value)
    return number, number


@dataclass(frozen=True)
class StaticChannel:
    """The paper's channel: every slot keeps the task's bandwidths."""

    name: ClassVar[str] = "static"


@dataclass(frozen=True)
class IIDChannel:
    """Every slot's bandwidths drawn afresh, uniformly from the scenario's ranges (with its floor)."""

    name: ClassVar[str] = "iid"


@dataclass(frozen=True)
class MarkovChannel:
    """A finite-state Markov channel per link.

    Each slot stays at its level with probability ``stay``, else moves one level up
    or down with equal probability (reflecting at the ends: from an end level it
    moves to its one neighbour). The first slot's level is uniform.

    Attributes:
        stay: probability of keeping the level from one slot to the next, in [0, 1].
        n_levels: K, used when the levels are not given (default 4).
        edge_levels, cloud_levels: the K levels of each link in bytes/s, increasing;
            default: the midpoints of K equal parts of the scenario's sampled range.
    """

    name: ClassVar[str] = "markov"
    stay: float = 0.7
    n_levels: int = 4
    edge_levels: tuple[float, ...] | None = None
    cloud_levels: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        stay = real_number("stay", self.stay)
        if not 0.0 <= stay <= 1.0:
            raise ValueError(f"stay must be a probability in [0, 1]; got {self.stay!r}")
        object.__setattr__(self, "stay", stay)
        n_levels = check_count("n_levels", self.n_levels, 1, 64, " (levels of the Markov channel)")
        object.__setattr__(self, "n_levels", n_levels)
        for name in ("edge_levels", "cloud_levels"):
            levels = getattr(self, name)
            if levels is None:
                continue
            array = real_array(name, levels, "bytes/s")
            if array.ndim != 1 or not 1 <= len(array) <= 64:
                raise ValueError(f"{name} must be 1 to 64 bandwidths (bytes/s); got {levels!r}")
            if not (np.isfinite(array).all() and (array > 0).all() and (np.diff(array) > 0).all()):
                raise ValueError(
                    f"{name} must be finite, > 0 and increasing (bytes/s); got {levels!r}"
                )
            object.__setattr__(self, name, tuple(array.tolist()))


@dataclass(frozen=True)
class RayleighChannel:
    """Block Rayleigh fading, independent per slot: ``b = W * log2(1 + snr * g) / 8`` bytes/s
    with ``g ~ Exp(1)``, floored at the scenario's ``min_bandwidth``.

    Attributes:
        bandwidth_hz: W in Hz, one value or an (edge, cloud) pair (default 4 MHz: about
            1.4 MB/s on average at 10 dB).
        mean_snr_db: the mean signal-to-noise ratio in dB, one value or a pair (default 10).
    """

    name: ClassVar[str] = "rayleigh"
    bandwidth_hz: float | tuple[float, float] = 4e6
    mean_snr_db: float | tuple[float, float] = 10.0

    def __post_init__(self) -> None:
        width = _pair("bandwidth_hz", self.bandwidth_hz, "Hz")
        snr = _pair("mean_snr_db", self.mean_snr_db, "dB")
        if not all(math.isfinite(w) and 1.0 <= w <= 1e15 for w in width):
            raise ValueError(f"bandwidth_hz must be in [1 Hz, 1e15 Hz]; got {self.bandwidth_hz!r}")
        if not all(math.isfinite(s) and -100.0 <= s <= 100.0 for s in snr):
            raise ValueError(f"mean_snr_db must be in [-100, 100] dB; got {self.mean_snr_db!r}")
        object.__setattr__(self, "bandwidth_hz", width)
        object.__setattr__(self, "mean_snr_db", snr)


Channel = StaticChannel | IIDChannel | MarkovChannel | RayleighChannel
_BY_NAME = {cls.name: cls for cls in (StaticChannel, IIDChannel, MarkovChannel, RayleighChannel)}


def as_channel(channel: str | Channel) -> Channel:
    """A channel process from its name (default parameters) or itself."""
    if isinstance(channel, tuple(_BY_NAME.values())):
        return channel
    if isinstance(channel, str) and channel in _BY_NAME:
        return _BY_NAME[channel]()
    raise ValueError(
        f"channel must be one of {CHANNELS} or a channel object (StaticChannel, IIDChannel, "
        f"MarkovChannel, RayleighChannel); got {channel!r}"
    )


# ---------------------------------------------------------------------------
# One link's law: sampling, and what the experts need to take expectations.


@dataclass(frozen=True)
class Cells:
    """A partition of one link's per-byte time x = 1 / b (s/byte) into cells, for quadrature.

    ``probability[c]`` is the chance that x falls in cell c, ``mean[c]`` its
    conditional mean there, and ``[low[c], high[c]]`` the cell's range. A function
    concave in x (and the experts' values are: minima of affine functions of the
    per-byte times) has its expectation above the probability-weighted minimum over
    each cell's ends and below the probability-weighted value at each cell's mean
    (Jensen): the two bounds :mod:`~gym_mecoffload.channels.experts` reports.
    """

    probability: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass(frozen=True)
class UniformLink:
    """A bandwidth uniform on [low, high] bytes/s in every slot."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=shape)

    def cells(self, n_cells: int) -> Cells:
        n_cells = check_count("n_cells", n_cells, 1, None, " (cells per link)")
        # Geometric edges in b: x = 1 / b varies by the same factor in every cell.
        edges = np.geomspace(self.low, self.high, n_cells + 1)
        if self.low == self.high:
            return Cells(
                np.ones(1),
                np.array([1 / self.low]),
                np.array([1 / self.low]),
                np.array([1 / self.low]),
            )
        a, c = edges[:-1], edges[1:]
        probability = (c - a) / (self.high - self.low)
        mean = np.log(c / a) / (c - a)  # E[1/b | a <= b <= c] for a uniform b
        return Cells(probability, mean, 1 / c, 1 / a)


# Gauss-Legendre nodes per piece of a Rayleigh cell: every piece keeps the integrand's
# singularities (g = 0 and g = -1 / snr) at least its own width away, so 16 nodes reach
# rounding error; 64 Gauss-Laguerre nodes for the unbounded last cell.
_PIECE_NODES = np.polynomial.legendre.leggauss(16)
_TAIL_NODES = np.polynomial.laguerre.laggauss(64)
_LN2 = math.log(2.0)


@dataclass(frozen=True)
class RayleighLink:
    """``max(floor, W log2(1 + snr g) / 8)`` bytes/s with g ~ Exp(1), independent per slot."""

    width_hz: float
    snr: float  # linear
    floor: float

    def bandwidth(self, gain: np.ndarray) -> np.ndarray:
        # log1p: at a low SNR, 1 + snr * g would round snr * g away (1e-10 keeps 6 digits).
        return np.maximum(self.floor, self.width_hz / (8.0 * _LN2) * np.log1p(self.snr * gain))

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return self.bandwidth(rng.exponential(1.0, size=shape))

    @property
    def floor_gain(self) -> float:
        """g_floor, the gain below which the link sits at its floor (inf if beyond a float)."""
        exponent = 8.0 * _LN2 * self.floor / self.width_hz  # ln(1 + snr g) at the floor
        with np.errstate(over="ignore"):
            return float(np.expm1(exponent) / self.snr)

    def cells(self, n_cells: int) -> Cells:
        """An atom at the floor, max(n_cells - 2, 1) cells geometric in b up to the gain
        g_floor + ln(1e6) (P(g > it | g > g_floor) = 1e-6), and a last cell up to infinite
        bandwidth (x = 0); cells of no probability are left out.

        Every probability and conditional mean is taken relative to its cell's start,
        ``exp(-(g - a))`` rather than ``exp(-g)``, so nothing underflows however likely the
        floor is; where P(floor) is 1 to double precision (g_floor above about 37), the
        link is pinned at its floor: one cell, and the expectation differs from the
        floor's by less than its last bit. Conditional means by composite Gauss-Legendre
        and by Gauss-Laguerre for the last cell: accurate to about 1e-14 relative at
        every width, SNR and floor the channel accepts.
        """
        n_cells = check_count("n_cells", n_cells, 1, None, " (cells per link)")
        x_floor = 1.0 / self.floor
        g_floor = self.floor_gain
        p_floor = -math.expm1(-g_floor)
        if p_floor == 1.0:
            one = np.ones(1)
            return Cells(one, one * x_floor, one * x_floor, one * x_floor)
        tail = math.exp(-g_floor)  # P(g > g_floor), > 2**-54 here
        # Edges geometric in u = ln(1 + snr g), i.e. in b: x = 1 / b shrinks by the same
        # factor in every cell. excess = g - g_floor, the gain above the floor's.
        u_floor = math.log1p(self.snr * g_floor)
        u_top = math.log1p(self.snr * (g_floor + math.log(1e6)))
        edges_u = np.geomspace(u_floor, u_top, max(n_cells - 2, 1) + 1)
        edges_g = np.expm1(edges_u) / self.snr
        edges_g[0], edges_g[-1] = g_floor, g_floor + math.log(1e6)
        excess = edges_g - g_floor
        probability, mean, low, high = [p_floor], [x_floor], [x_floor], [x_floor]
        for a, c, excess_a in zip(edges_g[:-1], edges_g[1:], excess[:-1], strict=True):
            if not c > a:  # edges that rounding merged: a cell of no probability
                continue
            probability.append(tail * math.exp(-excess_a) * -math.expm1(-(c - a)))
            mean.append(self._mean_time(a, c))
            low.append(float(1.0 / self.bandwidth(np.array(c))))
            high.append(float(1.0 / self.bandwidth(np.array(a))) if a > g_floor else x_floor)
        top = edges_g[-1]
        nodes, weights = _TAIL_NODES
        probability.append(tail * 1e-6)
        mean.append(float((weights / self.bandwidth(top + nodes)).sum() / weights.sum()))
        low.append(0.0)
        high.append(float(1.0 / self.bandwidth(np.array(top))))
        probability, mean, low, high = (np.array(v) for v in (probability, mean, low, high))
        keep = probability > 0.0
        return Cells(probability[keep] / probability[keep].sum(), mean[keep], low[keep], high[keep])

    def _mean_time(self, a: float, c: float) -> float:
        """E[1 / b | a <= g <= c] (s/byte) for a < c above the floor's gain."""
        # Pieces of [a, c] no longer than their distance to g = 0 (ratio <= 2 near 0) and
        # at most 1 wide (e^-g varies by e at most): a smooth integrand on each.
        breaks = [a]
        while breaks[-1] < c:
            step = min(breaks[-1], 1.0) if breaks[-1] > 0.0 else c
            breaks.append(min(c, breaks[-1] + step))
        starts, ends = np.array(breaks[:-1])[:, None], np.array(breaks[1:])[:, None]
        nodes, weights = _PIECE_NODES
        g = (ends - starts) / 2 * nodes + (ends + starts) / 2
        w = (ends - starts) / 2 * weights * np.exp(-(g - a))
        return float((w / self.bandwidth(g)).sum() / w.sum())


@dataclass(frozen=True)
class MarkovLink:
    """K levels (bytes/s); stay with probability ``stay``, else one level up or down."""

    levels: np.ndarray
    stay: float

    @property
    def transition(self) -> np.ndarray:
        """P[i, j]: the chance of level j in the next slot after level i, (K, K)."""
        k = len(self.levels)
        matrix = np.eye(k) * self.stay
        move = 1.0 - self.stay
        for i in range(k):
            if k == 1:
                matrix[i, i] = 1.0
            elif i == 0:
                matrix[i, 1] += move
            elif i == k - 1:
                matrix[i, k - 2] += move
            else:
                matrix[i, i - 1] += move / 2
                matrix[i, i + 1] += move / 2
        return matrix

    def sample_levels(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        n_tasks, n_slots = shape
        k = len(self.levels)
        levels = np.empty(shape, dtype=np.intp)
        levels[:, 0] = rng.integers(k, size=n_tasks)
        draws = rng.random((n_tasks, n_slots - 1))
        move = 1.0 - self.stay
        step = np.where(draws < self.stay, 0, np.where(draws < self.stay + move / 2, -1, 1))
        for slot in range(1, n_slots):
            level = levels[:, slot - 1] + step[:, slot - 1]
            level = np.where(level < 0, 1, np.where(level >= k, k - 2, level))  # reflect
            levels[:, slot] = level if k > 1 else 0
        return levels

    def sample(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        return self.levels[self.sample_levels(rng, shape)]

    def level_of(self, bandwidth: np.ndarray) -> np.ndarray:
        """The index of the level nearest each bandwidth (an observation holds float32 values)."""
        return np.abs(np.asarray(bandwidth, dtype=np.float64)[..., None] - self.levels).argmin(
            axis=-1
        )


LinkLaw = UniformLink | RayleighLink | MarkovLink


@dataclass(frozen=True)
class ChannelModel:
    """A channel process bound to a scenario, with its outage probability.

    Validated on construction, however it is made: a channel name or process, a preset
    name or :class:`Scenario`.

    Attributes:
        channel: the process (:class:`StaticChannel` etc.).
        outage_probability: q in [0, 0.999]: each transfer attempt between two
            different places fails with probability q and is repeated in full.
        scenario: the scenario whose ranges and floor the process uses.
    """

    channel: Channel
    outage_probability: float
    scenario: Scenario

    def __post_init__(self) -> None:
        q = real_number("outage_probability", self.outage_probability)
        if not 0.0 <= q <= 0.999:
            raise ValueError(
                "outage_probability must be in [0, 0.999] (at most 1,000 attempts per "
                f"transfer on average; 1 would never deliver); got {self.outage_probability!r}"
            )
        object.__setattr__(self, "outage_probability", q)
        object.__setattr__(self, "channel", as_channel(self.channel))
        object.__setattr__(self, "scenario", as_scenario(self.scenario))
        self.link_laws()  # refuses levels or floors that the scenario cannot represent

    @classmethod
    def build(
        cls, channel: str | Channel, outage_probability: float, scenario: str | Scenario
    ) -> ChannelModel:
        """A validated model (the constructor's checks: an unknown channel, a q outside
        [0, 0.999], levels or floors the scenario cannot represent)."""
        return cls(channel, outage_probability, scenario)

    @property
    def fixed(self) -> bool:
        """The paper's channel: static and reliable, so every slot is the task's own."""
        return isinstance(self.channel, StaticChannel) and self.outage_probability == 0.0

    @property
    def mean_attempts(self) -> float:
        """Expected attempts per transfer, 1 / (1 - q)."""
        return 1.0 / (1.0 - self.outage_probability)

    def link_laws(self) -> tuple[LinkLaw, LinkLaw] | None:
        """The law of each link (edge, cloud) for a fluctuating channel; None for ``static``."""
        channel, scenario = self.channel, self.scenario
        ranges = [scenario.bandwidth_range(f"{link}_bandwidth") for link in LINKS]
        if isinstance(channel, StaticChannel):
            return None
        if isinstance(channel, IIDChannel):
            return tuple(UniformLink(*bounds) for bounds in ranges)  # type: ignore[return-value]
        if isinstance(channel, MarkovChannel):
            laws = []
            for link, (low, high) in zip(LINKS, ranges, strict=True):
                given = getattr(channel, f"{link}_levels")
                if given is None:
                    k = channel.n_levels
                    width = (high - low) / k
                    levels = low + width * (np.arange(k) + 0.5)
                else:
                    levels = np.array(given)
                check_representable(f"{link}_bandwidth", levels, f"{link}_levels")
                laws.append(MarkovLink(levels, channel.stay))
            return tuple(laws)  # type: ignore[return-value]
        return tuple(
            RayleighLink(width, 10.0 ** (snr_db / 10.0), scenario.min_bandwidth)
            for width, snr_db in zip(channel.bandwidth_hz, channel.mean_snr_db, strict=True)
        )  # type: ignore[return-value]

    def realise(self, tasks: TaskBatch, rng: np.random.Generator) -> tuple[TaskBatch, Slots | None]:
        """Every slot's bandwidths and attempts for ``tasks``, drawn only from ``rng``.

        Returns the tasks with their bandwidths set to slot 0's (what the agent
        sees first) and the :class:`Slots`. The paper's static, reliable channel
        (:attr:`fixed`) has no slots of its own: it returns None, meaning every
        transfer at the task's own bandwidths, once, and draws nothing, so it
        leaves a seeded stream of tasks exactly as it was.
        """
        tasks = require_batch(tasks, "tasks")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
        if self.fixed:
            return tasks, None
        n_slots = tasks.n_subtasks + 1
        shape = (tasks.n_tasks, n_slots)
        laws = self.link_laws()
        if laws is None:
            slots = Slots.fixed(tasks)
            edge, cloud = slots.edge_bandwidths, slots.cloud_bandwidths
        else:
            edge, cloud = (law.sample(rng, shape) for law in laws)
        if self.outage_probability > 0.0:
            attempts = rng.geometric(1.0 - self.outage_probability, size=shape)
        else:
            attempts = np.ones(shape, dtype=np.int64)
        slots = Slots(edge, cloud, attempts)
        if laws is not None:
            tasks = replace(tasks, edge_bandwidth=edge[:, 0], cloud_bandwidth=cloud[:, 0])
        return tasks, slots
