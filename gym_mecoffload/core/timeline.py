"""A timeline of resources over a batch of N systems: CPUs and links with free-at times.

Work is added one piece at a time. A transfer crosses its route's links hop by hop;
a run occupies a place's CPU. Without contention every resource serves everything at
once, so a piece starts as soon as it is ready. With contention each queued CPU and
each link serves one piece at a time, in the order pieces are added: a resource with
a free-at time is a first-in, first-out queue, and a piece waits until its resource
is free (and, when it has one, until its release time).
"""

from __future__ import annotations

import numpy as np

from gym_mecoffload.core.topology import Topology


class Timeline:
    """Free-at times (seconds) of a topology's CPUs and links in N systems.

    Args:
        topology: the places and links.
        bandwidths: (N,) bandwidth arrays in bytes/s, indexed as the topology's
            ``link_bandwidth`` says (b1 and b2 for the device-edge-cloud).
        contention: whether queued CPUs and links serve one piece at a time.
    """

    def __init__(self, topology: Topology, bandwidths: list[np.ndarray], *, contention: bool):
        self.topology = topology
        self.contention = contention
        needed = max(topology.link_bandwidth) + 1
        if len(bandwidths) != needed:
            raise ValueError(
                f"the topology's links run at {needed} bandwidths (its link_bandwidth indices); "
                f"got {len(bandwidths)} bandwidth arrays"
            )
        self.route_links = topology.route_links()  # (P, P, hops), -1 past a route's end
        self.hops = topology.max_hops
        self.link_bandwidths = np.stack([bandwidths[k] for k in topology.link_bandwidth], axis=1)
        self.unqueued = ~np.array(topology.queued)  # places whose CPU never waits
        # Each route's hop bandwidths by (system, source * P + target, hop); inf past the
        # route's end, where a piece moves on at once (x / inf = 0, t + 0 = t).
        places = topology.n_places
        self.pair_bandwidths = np.full(
            (len(self.link_bandwidths), places * places, max(self.hops, 1)), np.inf
        )
        for source, target, hop in zip(*np.nonzero(self.route_links >= 0), strict=True):
            link = self.route_links[source, target, hop]
            self.pair_bandwidths[:, source * places + target, hop] = self.link_bandwidths[:, link]
        size = len(self.link_bandwidths)
        self.links = np.zeros((size, len(topology.links))) if contention else None
        self.cpus = np.zeros((size, topology.n_places)) if contention else None

    def copy(self) -> Timeline:
        """A timeline whose free-at times change independently of this one's."""
        twin = Timeline.__new__(Timeline)
        twin.__dict__.update(self.__dict__)
        twin.links = None if self.links is None else self.links.copy()
        twin.cpus = None if self.cpus is None else self.cpus.copy()
        return twin

    def transfer(
        self,
        amount: np.ndarray,
        source: np.ndarray,
        target: np.ndarray,
        ready: np.ndarray,
        active: np.ndarray,
    ) -> np.ndarray:
        """Move ``amount`` bytes (N,) from ``source`` to ``target`` once they are ``ready``,
        link by link along the route; with contention each link waits until it is free
        (and stays busy until the bytes have crossed). Returns the arrival times (N,):
        ``ready`` where nothing moves (same place, or not ``active``)."""
        rows = np.arange(len(ready))
        arrival = ready.copy()
        for hop in range(self.hops):
            link = self.route_links[source, target, hop]
            moving = active & (link >= 0)
            if not moving.any():
                break
            bandwidth = self.link_bandwidths[rows, link]
            start = arrival if self.links is None else np.maximum(self.links[rows, link], arrival)
            end = start + amount / bandwidth
            if self.links is not None:
                self.links[rows[moving], link[moving]] = end[moving]
            arrival = np.where(moving, end, arrival)
        return arrival

    def arrivals(
        self, amount: np.ndarray, source: np.ndarray, target: np.ndarray, ready: np.ndarray
    ) -> np.ndarray:
        """Without contention, :meth:`transfer` of many pieces per system at once: the
        arguments broadcast to one shape whose first axis is the N systems (a piece that
        stays in place, or moves 0 bytes, arrives when it is ready). Nothing queues, so
        the pieces' order does not matter."""
        if self.links is not None:
            raise RuntimeError("with contention, transfers queue: add them one at a time")
        pair = np.asarray(source) * len(self.unqueued) + np.asarray(target)
        shape = np.broadcast_shapes(np.shape(amount), pair.shape, np.shape(ready))
        rows = np.arange(shape[0]).reshape((-1,) + (1,) * (len(shape) - 1))
        arrival = np.broadcast_to(ready, shape)
        for hop in range(self.hops):
            arrival = arrival + amount / self.pair_bandwidths[rows, pair, hop]
        return arrival

    def run(
        self,
        place: np.ndarray,
        ready: np.ndarray,
        seconds: np.ndarray,
        release: np.ndarray | None = None,
    ) -> np.ndarray:
        """Run work of ``seconds`` (N,) at ``place`` once it is ``ready`` and, if given, not
        before its ``release`` time (N,) (a task that arrives later); with contention a
        queued CPU first finishes what it already holds. Returns the finish times (N,)."""
        if release is not None:
            ready = np.maximum(ready, release)
        if self.cpus is None:
            return ready + seconds
        rows = np.arange(len(place))
        unqueued = self.unqueued[place]
        start = np.maximum(ready, np.where(unqueued, 0.0, self.cpus[rows, place]))
        finish = start + seconds
        self.cpus[rows, place] = np.where(unqueued, 0.0, finish)
        return finish


class TimelineOne:
    """:class:`Timeline` for one system, in plain Python floats: for stepping one task at a
    time, where numpy's per-call overhead on arrays of one costs more than the arithmetic.
    The same operations in the same order, so every time is bit-identical (tested).

    Args:
        topology: the places and links.
        bandwidths: the system's bandwidths in bytes/s, indexed as the topology's
            ``link_bandwidth`` says.
        contention: whether queued CPUs and links serve one piece at a time.
    """

    __slots__ = ("contention", "routes", "link_bandwidths", "queued", "links", "cpus", "record")

    def __init__(self, topology: Topology, bandwidths: list[float], *, contention: bool):
        self.contention = contention
        # Each route as (link, bandwidth) hops.
        self.link_bandwidths = [float(bandwidths[k]) for k in topology.link_bandwidth]
        self.routes = [
            [[(link, self.link_bandwidths[link]) for link in route] for route in row]
            for row in topology.routes
        ]
        self.queued = list(topology.queued)
        self.links = [0.0] * len(topology.links) if contention else None
        self.cpus = [0.0] * topology.n_places if contention else None
        # When a list: every hop ("send", link, start, end) and run ("run", place, start,
        # end) is appended to it, for drawing the timeline.
        self.record: list[tuple[str, int, float, float]] | None = None

    def copy(self) -> TimelineOne:
        """A timeline whose free-at times change independently of this one's."""
        twin = TimelineOne.__new__(TimelineOne)
        twin.contention, twin.routes = self.contention, self.routes
        twin.link_bandwidths, twin.queued = self.link_bandwidths, self.queued
        twin.links = None if self.links is None else list(self.links)
        twin.cpus = None if self.cpus is None else list(self.cpus)
        twin.record = None  # a "what if" is not drawn
        return twin

    def transfer(self, amount: float, source: int, target: int, ready: float) -> float:
        """Move ``amount`` bytes from ``source`` to ``target`` once they are ``ready``;
        returns the arrival time (``ready`` where source and target are the same place)."""
        arrival = ready
        links = self.links
        for link, bandwidth in self.routes[source][target]:
            start = arrival if links is None else max(links[link], arrival)
            arrival = start + amount / bandwidth
            if links is not None:
                links[link] = arrival
            if self.record is not None:
                self.record.append(("send", link, start, arrival))
        return arrival

    def run(self, place: int, ready: float, seconds: float, release: float | None = None) -> float:
        """Run work of ``seconds`` at ``place`` once ``ready`` (and not before ``release``);
        with contention a queued CPU first finishes what it holds. Returns the finish time."""
        if release is not None:
            ready = max(ready, release)
        cpus = self.cpus
        if cpus is None:
            start = ready
        elif not self.queued[place]:
            cpus[place] = 0.0
            start = max(ready, 0.0)
        else:
            start = max(ready, cpus[place])
            cpus[place] = start + seconds
        if self.record is not None:
            self.record.append(("run", place, start, start + seconds))
        return start + seconds
