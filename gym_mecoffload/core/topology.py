"""Where work runs and how bytes travel: a topology of P places joined by directed links.

A place runs subtasks at its CPU frequency; a link moves bytes at its bandwidth.
Bytes between two places follow a fixed route of links, and every table here (run
seconds, per-byte seconds and joules, routes) is derived from the topology, so the
paper's device-edge-cloud (:data:`DEVICE_EDGE_CLOUD`) is one instance and a system
of several edge servers another (:meth:`Topology.tiered`).

Units are SI: Hz, bytes/s, seconds, joules, watts.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gym_mecoffload.core.checks import check_count, first_bad, holds_integers_below, real_array

DEVICE, EDGE, CLOUD = 0, 1, 2
PLACES = ("device", "edge", "cloud")
N_PLACES = len(PLACES)

# The platform of every device-edge-cloud task, chain or DAG: two CPU frequencies, the
# two links' bandwidths and the cloud's frequency (inf: the paper's free cloud).
PLATFORM_FIELDS = ("device_hz", "edge_hz", "edge_bandwidth", "cloud_bandwidth", "cloud_hz")


@dataclass(frozen=True)
class Topology:
    """P places and the directed links between them; place 0 is the user's device.

    Attributes:
        places: the places' names, device first.
        links: directed links ``(a, b)`` between places.
        link_bandwidth: for each link, which of the bandwidths a system gives (an index
            into the ``bandwidths`` the tables take) it runs at; a link and its reverse
            usually share one.
        queued: for each place, whether its CPU runs one subtask at a time when resources
            are contended (the device and edge servers), or as many as come (the cloud).
        routes: ``routes[a][b]``: the links (indices) bytes from a to b cross, in order;
            derived (fewest hops, ties by link order) and empty for a == b.
    """

    places: tuple[str, ...]
    links: tuple[tuple[int, int], ...]
    link_bandwidth: tuple[int, ...]
    queued: tuple[bool, ...]
    routes: tuple[tuple[tuple[int, ...], ...], ...] = field(init=False, repr=False)
    n_places: int = field(init=False, repr=False)  # P, a plain int: read on every env step

    def __post_init__(self) -> None:
        n = len(self.places)
        if n < 1 or len(self.links) != len(self.link_bandwidth) or len(self.queued) != n:
            raise ValueError(
                f"a topology needs places, one bandwidth index per link and one queued flag "
                f"per place; got {n} places, {len(self.links)} links, "
                f"{len(self.link_bandwidth)} bandwidth indices and {len(self.queued)} flags"
            )
        for a, b in self.links:
            if not (0 <= a < n and 0 <= b < n) or a == b:
                raise ValueError(f"link ({a}, {b}) must join two different places of {n}")
        object.__setattr__(self, "n_places", n)
        object.__setattr__(self, "routes", tuple(self._route_from(a) for a in range(n)))

    def _route_from(self, source: int) -> tuple[tuple[int, ...], ...]:
        """Fewest-hop routes from ``source`` to every place (breadth first)."""
        route: dict[int, tuple[int, ...]] = {source: ()}
        queue = deque([source])
        while queue:
            a = queue.popleft()
            for index, (u, v) in enumerate(self.links):
                if u == a and v not in route:
                    route[v] = (*route[a], index)
                    queue.append(v)
        missing = [self.places[b] for b in range(len(self.places)) if b not in route]
        if missing:
            raise ValueError(f"no route from {self.places[source]} to {missing}")
        return tuple(route[b] for b in range(len(self.places)))

    @property
    def max_hops(self) -> int:
        """The most links any route crosses."""
        return max(len(route) for row in self.routes for route in row)

    def route_links(self) -> np.ndarray:
        """``routes`` as an int array (P, P, max_hops) of link indices, -1 past the end."""
        table = np.full((self.n_places, self.n_places, self.max_hops), -1, dtype=np.int64)
        for a, row in enumerate(self.routes):
            for b, route in enumerate(row):
                table[a, b, : len(route)] = route
        return table

    def per_byte_seconds(self, bandwidths: list[np.ndarray]) -> np.ndarray:
        """Seconds to move one byte from place a to place b, ``(P, P, *shape)``, for bandwidths
        (bytes/s) of any common shape: the sum over the route's links of 1 / bandwidth."""
        inverse = [1.0 / np.asarray(b) for b in bandwidths]
        table = np.zeros((self.n_places, self.n_places, *np.shape(inverse[0])))
        for a, row in enumerate(self.routes):
            for b, route in enumerate(row):
                if route:
                    total = inverse[self.link_bandwidth[route[0]]]
                    for link in route[1:]:
                        total = total + inverse[self.link_bandwidth[link]]
                    table[a, b] = total
        return table

    def per_byte_joules(
        self, bandwidths: list[np.ndarray], tx_power: float, rx_power: float
    ) -> np.ndarray:
        """The device's joules per byte from place a to place b, ``(P, P, *shape)``: its radio
        sends (``tx_power`` watts) over a route's first link when the route leaves the
        device and receives (``rx_power``) over its last when it ends there; the rest of
        the route costs the device nothing."""
        table = np.zeros((self.n_places, self.n_places, *np.shape(bandwidths[0])))
        for a, row in enumerate(self.routes):
            for b, route in enumerate(row):
                if a == DEVICE and route:
                    table[a, b] = tx_power / bandwidths[self.link_bandwidth[route[0]]]
                elif b == DEVICE and route:
                    table[a, b] = rx_power / bandwidths[self.link_bandwidth[route[-1]]]
        return table

    def per_byte_one(
        self, bandwidths: list[float], power: tuple[float, float] | None = None
    ) -> list[list[float]]:
        """:meth:`per_byte_seconds` (``power`` None) or :meth:`per_byte_joules` (``power`` =
        (tx, rx) watts) of one system in Python floats: the same operations in the same
        order, so the values are bit-identical (for deciding one task at a time, where
        numpy's per-call overhead costs more than the arithmetic)."""
        inverse = [1.0 / b for b in bandwidths]
        table = [[0.0] * self.n_places for _ in range(self.n_places)]
        for a, row in enumerate(self.routes):
            for b, route in enumerate(row):
                if not route:
                    continue
                if power is None:
                    total = inverse[self.link_bandwidth[route[0]]]
                    for link in route[1:]:
                        total = total + inverse[self.link_bandwidth[link]]
                    table[a][b] = total
                elif a == DEVICE:
                    table[a][b] = power[0] / bandwidths[self.link_bandwidth[route[0]]]
                elif b == DEVICE:
                    table[a][b] = power[1] / bandwidths[self.link_bandwidth[route[-1]]]
        return table

    def check_places(self, decisions: Any, expected: tuple[int, ...]) -> np.ndarray:
        """``decisions`` as an int array of shape ``expected`` holding places of this
        topology, or a ValueError saying which are allowed."""
        array = np.asarray(decisions)
        if array.shape != expected:
            raise ValueError(f"decisions must have shape (N, n) = {expected}; got {array.shape}")
        numbers = ", ".join(str(p) for p in range(self.n_places))
        if array.size and not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"decisions must be integers (places {numbers}); got dtype {array.dtype}"
            )
        bad = (array < 0) | (array >= self.n_places)
        if bad.any():
            raise ValueError(
                f"decisions must hold places {self.describe_places()}; got {first_bad(array, bad)}"
            )
        return array.astype(np.intp, copy=False)

    def check_action(self, action: Any) -> int:
        """A single env's place ``action`` as an int, or a ValueError naming the places."""
        # The common case, a Python or numpy integer scalar, checked cheaply.
        if (
            isinstance(action, (int, np.integer))
            and not isinstance(action, bool)
            and 0 <= action < self.n_places
        ):
            return int(action)
        value = np.asarray(action)
        if value.shape != () or not holds_integers_below(value, self.n_places):
            raise ValueError(
                f"action must be an integer place {self.describe_places()}; got {action!r}"
            )
        return int(value)

    def check_actions(self, actions: Any, shape: tuple[int, ...]) -> np.ndarray:
        """A vector env's place ``actions`` of ``shape`` as an intp array, or a ValueError."""
        array = np.asarray(actions)
        if array.shape != shape or not holds_integers_below(array, self.n_places):
            raise ValueError(
                f"actions must be an integer array of shape {shape} holding places "
                f"{self.describe_places()}; got {actions!r}"
            )
        return array.astype(np.intp, copy=False)

    def describe_places(self) -> str:
        """``0 (device), 1 (edge) or 2 (cloud)``: the places for an error message."""
        named = [f"{p} ({name})" for p, name in enumerate(self.places)]
        return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]

    @classmethod
    def tiered(cls, n_edges: int) -> Topology:
        """The device, ``n_edges`` edge servers and the cloud: the device reaches edge s over
        its own wireless link (bandwidth index s - 1), edge s reaches the cloud over its
        backhaul (index n_edges + s - 1); device <-> cloud goes through the first edge."""
        n_edges = check_count("n_edges", n_edges, 1)
        edges = range(1, n_edges + 1)
        cloud = n_edges + 1
        links: list[tuple[int, int]] = []
        bandwidth: list[int] = []
        for s in edges:
            links += [(DEVICE, s), (s, cloud), (cloud, s), (s, DEVICE)]
            bandwidth += [s - 1, n_edges + s - 1, n_edges + s - 1, s - 1]
        names = ("device", *(f"edge {s}" for s in edges), "cloud")
        return cls(names, tuple(links), tuple(bandwidth), (True,) * (n_edges + 1) + (False,))


# The paper's system: links 0 device -> edge, 1 edge -> cloud, 2 cloud -> edge, 3 edge ->
# device; b1 (bandwidth 0) between device and edge, b2 (1) between edge and cloud.
DEVICE_EDGE_CLOUD = Topology(
    PLACES, ((0, 1), (1, 2), (2, 1), (1, 0)), (0, 1, 1, 0), (True, True, False)
)


def platform_arrays(source: Any, n_tasks: int) -> dict[str, np.ndarray]:
    """The per-task platform fields of ``source`` (``device_hz``, ``edge_hz``, the two
    bandwidths and ``cloud_hz``) as validated (N,) float arrays: a scalar is repeated,
    ``cloud_hz`` None means inf. A ValueError or TypeError names a bad field."""
    values = {}
    for name in PLATFORM_FIELDS:
        raw = getattr(source, name)
        if raw is None and name == "cloud_hz":
            raw = math.inf
        unit = "Hz" if name.endswith("_hz") else "bytes/s"
        array = real_array(name, raw, unit)
        if array.ndim == 0:
            array = np.full(n_tasks, float(array))
        if array.shape != (n_tasks,):
            raise ValueError(f"{name} must have shape (N,) = ({n_tasks},); got {array.shape}")
        infinite_ok = name == "cloud_hz"  # an infinitely fast cloud is the paper's model
        bad = ~(array > 0) if infinite_ok else ~(array > 0) | ~np.isfinite(array)
        if bad.any():
            extra = " (a zero bandwidth makes latency unbounded)" if unit == "bytes/s" else ""
            allowed = "> 0 or inf" if infinite_ok else "finite and > 0"
            raise ValueError(
                f"{name} must be {allowed} ({unit}){extra}; got {first_bad(array, bad)}"
            )
        values[name] = array
    return values


def place_hz(platform: Any) -> np.ndarray:
    """Each place's CPU frequency (3, N) in Hz for a batch with the platform's fields."""
    return np.stack([platform.device_hz, platform.edge_hz, platform.cloud_hz])


def bandwidths(platform: Any) -> list[np.ndarray]:
    """The device-edge-cloud bandwidths (b1, b2) of a batch with the platform's fields."""
    return [platform.edge_bandwidth, platform.cloud_bandwidth]
