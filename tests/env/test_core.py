"""The shared core, against hand computations: topologies of P places and the timeline."""

import numpy as np
import pytest

from gym_mecoffload.core.costs import per_byte_costs
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.timeline import Timeline
from gym_mecoffload.core.topology import CLOUD, DEVICE, DEVICE_EDGE_CLOUD, EDGE, Topology


def test_the_paper_topology_routes_device_cloud_traffic_through_the_edge():
    routes = DEVICE_EDGE_CLOUD.routes
    assert routes[DEVICE][CLOUD] == (0, 1) and routes[CLOUD][DEVICE] == (2, 3)
    assert routes[EDGE][CLOUD] == (1,) and routes[DEVICE][DEVICE] == ()
    b1, b2 = np.array([2.0]), np.array([4.0])  # bytes/s
    seconds = DEVICE_EDGE_CLOUD.per_byte_seconds([b1, b2])[..., 0]
    expected = [[0, 0.5, 0.75], [0.5, 0, 0.25], [0.75, 0.25, 0]]
    assert np.array_equal(seconds, expected)
    joules = per_byte_costs(Objective("energy", tx_power=3.0, rx_power=1.0), b1, b2)[..., 0]
    # Only the device's radio costs it energy: sending 3 W / 2 B/s, receiving 1 W / 2 B/s.
    assert np.array_equal(joules, [[0, 1.5, 1.5], [0.5, 0, 0], [0.5, 0, 0]])


def test_a_tiered_topology_gives_every_edge_its_own_links():
    tiers = Topology.tiered(2)  # device, edge 1, edge 2, cloud
    assert tiers.places == ("device", "edge 1", "edge 2", "cloud")
    bandwidths = [np.array(v) for v in (1.0, 2.0, 10.0, 20.0)]  # wireless 1, 2; backhaul 1, 2
    seconds = tiers.per_byte_seconds(bandwidths)
    assert seconds[0, 2] == 0.5 and seconds[2, 3] == 0.05
    assert seconds[0, 3] == 1.0 + 0.1  # through edge 1, the first route found
    assert seconds[2, 1] == 0.05 + 0.1  # edge 2 -> cloud -> edge 1
    assert tiers.max_hops == 2 and tiers.queued == (True, True, True, False)


def test_a_topology_without_a_route_is_refused():
    with pytest.raises(ValueError, match="no route from a to"):
        Topology(("a", "b"), ((1, 0),), (0,), (True, True))


def test_places_outside_the_topology_are_refused_by_name():
    with pytest.raises(ValueError, match=r"0 \(device\), 1 \(edge\) or 2 \(cloud\); got 3"):
        DEVICE_EDGE_CLOUD.check_places([[0, 3]], (1, 2))


def _timeline(contention):
    # One system: b1 = 1 B/s between device and edge, b2 = 2 B/s between edge and cloud.
    return Timeline(DEVICE_EDGE_CLOUD, [np.array([1.0]), np.array([2.0])], contention=contention)


def test_transfers_cross_their_route_and_queue_on_a_busy_link():
    def send(timeline, amount, source, target, ready):
        return timeline.transfer(
            np.array([amount]),
            np.array([source]),
            np.array([target]),
            np.array([ready]),
            np.array([True]),
        )[0]

    free = _timeline(contention=False)
    assert send(free, 4.0, DEVICE, CLOUD, 1.0) == 1.0 + 4.0 + 2.0  # 4 s then 2 s
    assert send(free, 4.0, DEVICE, EDGE, 0.0) == 4.0  # no queue without contention
    busy = _timeline(contention=True)
    assert send(busy, 4.0, DEVICE, CLOUD, 1.0) == 7.0  # device->edge busy until 5
    assert send(busy, 1.0, DEVICE, EDGE, 0.0) == 6.0  # waits for the link: 5 + 1
    assert send(busy, 2.0, EDGE, CLOUD, 0.0) == 8.0  # edge->cloud busy until 7, then 1 s
    assert send(busy, 2.0, CLOUD, EDGE, 0.0) == 1.0  # the reverse link is its own queue
    assert send(busy, 3.0, EDGE, EDGE, 2.5) == 2.5  # nothing moves


def test_queued_cpus_run_one_at_a_time_and_the_cloud_never_waits():
    timeline = _timeline(contention=True)

    def run(place, ready, seconds):
        return timeline.run(np.array([place]), np.array([ready]), np.array([seconds]))[0]

    assert run(DEVICE, 0.0, 3.0) == 3.0
    assert run(DEVICE, 1.0, 2.0) == 5.0  # first in, first out
    assert run(EDGE, 1.0, 2.0) == 3.0  # another CPU
    assert run(CLOUD, 0.0, 4.0) == 4.0
    assert run(CLOUD, 0.0, 4.0) == 4.0  # as many at once as come
    twin = timeline.copy()
    assert run(DEVICE, 0.0, 1.0) == 6.0
    assert twin.run(np.array([DEVICE]), np.array([0.0]), np.array([1.0]))[0] == 6.0
    assert (
        _timeline(contention=False).run(np.array([DEVICE]), np.array([7.0]), np.array([1.0]))[0]
        == 8.0
    )


def test_work_waits_for_its_release_time():
    timeline = _timeline(contention=True)
    finish = timeline.run(np.array([DEVICE]), np.array([1.0]), np.array([2.0]), np.array([4.0]))
    assert finish[0] == 6.0  # released at 4, not ready-at-1
    assert timeline.run(np.array([DEVICE]), np.array([0.0]), np.array([1.0]))[0] == 7.0


def test_the_timeline_gives_the_chain_models_latency():
    """A chain played on the timeline (each subtask's input moved, then run, the output
    returned) takes the chain model's additive latency, computed without it."""
    from gym_mecoffload.chain.model import latency, sample_states

    rng = np.random.default_rng(3)
    tasks = sample_states(200, n_subtasks=5, rng=rng)
    decisions = rng.integers(0, 3, size=(200, 5))
    for contention in (False, True):  # one task per system: nothing ever queues
        timeline = Timeline(
            DEVICE_EDGE_CLOUD, [tasks.edge_bandwidth, tasks.cloud_bandwidth], contention=contention
        )
        hz = np.stack([tasks.device_hz, tasks.edge_hz, tasks.cloud_hz], axis=1)
        rows, everyone = np.arange(200), np.ones(200, dtype=bool)
        now, where = np.zeros(200), np.zeros(200, dtype=np.int64)
        for t in range(5):
            place = decisions[:, t]
            now = timeline.transfer(tasks.data[:, t], where, place, now, everyone)
            now = timeline.run(place, now, tasks.cycles[:, t] / hz[rows, place])
            where = place
        now = timeline.transfer(tasks.data[:, 5], where, np.zeros(200, np.int64), now, everyone)
        assert np.allclose(now, latency(tasks, decisions), rtol=1e-12, atol=0)


def test_attempts_that_wrap_around_as_int64_are_refused():
    from gym_mecoffload.core.links import Slots

    shape = (1, 7)
    with pytest.raises(ValueError, match="attempts must be at most 9223372036854775807"):
        Slots(np.ones(shape), np.ones(shape), np.full(shape, 2**64 - 1, dtype=np.uint64))
    fine = Slots(np.ones(shape), np.ones(shape), np.full(shape, 3, dtype=np.uint8))
    assert fine.attempts.dtype == np.int64 and (fine.attempts == 3).all()


def test_bad_topologies_and_timelines_say_what_is_allowed():
    with pytest.raises(ValueError, match=r"n_edges must be an integer >= 1"):
        Topology.tiered(0)
    with pytest.raises(ValueError, match="run at 2 bandwidths .* got 1"):
        Timeline(DEVICE_EDGE_CLOUD, [np.array([1.0])], contention=False)
