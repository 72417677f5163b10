"""The reference simulator (reference.py) against hand-computed cases.

Every expected number is worked out in a comment from SPEC-MULTI sections 3-4 and SPEC.md
section 1, never by running the simulator another way. Numbers are chosen so that the
arithmetic is exact in binary floating point where possible.
"""

import math
import random

import pytest
from reference import (
    Episode,
    ReferenceSimulator,
    System,
    Task,
    age_integral,
    best_alone,
    simulate,
    static_links,
)

MB = 1e6
GHZ = 1e9
approx = pytest.approx


def one_user_one_server(**kw) -> System:
    base = dict(device_hz=[1 * GHZ], edge_hz=[4 * GHZ], cloud_bandwidth=[1 * MB])
    base.update(kw)
    return System(**base)


# (1) Consistency with the chain model for n = 1 -------------------------------------------

# p1 = 1 GHz, p2 = 4 GHz, b1 = 2 MB/s, b2 = 1 MB/s; cycles = 2e9, data = [4 MB, 1 MB].
CHAIN_TASK = Task(cycles=2 * GHZ, input_data=4 * MB, output_data=1 * MB, deadline=100.0)
# SPEC.md section 1, with I = [place] and I[-1] = I[1] = device:
#   device: exec 2e9 / 1e9 = 2; no transfers                                  -> 2.0 s
#   edge:   4e6 / 2e6 + 2e9 / 4e9 + 1e6 / 2e6 = 2 + 0.5 + 0.5                 -> 3.0 s
#   cloud:  4e6 * (1/2e6 + 1/1e6) + 0 + 1e6 * (1/1e6 + 1/2e6) = 6 + 1.5       -> 7.5 s
#   cloud with cloud_hz = 8 GHz: + 2e9 / 8e9 = 0.25                           -> 7.75 s
# Device energy: device kappa * cycles * p1**2 = 1e-27 * 2e9 * 1e18 = 2 J;
#   edge and cloud: tx 0.5 W * 4e6 / 2e6 + rx 0.1 W * 1e6 / 2e6 = 1 + 0.05 = 1.05 J
#   (backhaul and cloud cost the device nothing).
CHAIN = {0: (2.0, 2.0), 1: (3.0, 1.05), 2: (7.5, 1.05)}


@pytest.mark.parametrize("arrival_slot", [0, 3])
@pytest.mark.parametrize("place", [0, 1, 2])
def test_single_user_equals_the_chain_model(place, arrival_slot):
    system = one_user_one_server(horizon=arrival_slot + 1)
    tasks = [[None]] * arrival_slot + [[CHAIN_TASK]]
    episode = Episode(tasks=tasks, edge_bandwidth=static_links([[2 * MB]], 20))
    decisions = [[place]] * (arrival_slot + 1)
    (rec,) = simulate(system, episode, decisions).tasks
    latency, energy = CHAIN[place]
    assert rec.arrival == arrival_slot * 1.0
    assert rec.latency == approx(latency)
    assert rec.energy == approx(energy)
    assert not rec.dropped and not rec.missed
    assert rec.costs["latency"] == approx(latency)  # class weight 1
    assert rec.costs["energy"] == approx(energy)
    assert rec.costs["weighted"] == approx(0.5 * latency + 0.5 * energy)  # w = 0.5
    assert rec.costs["deadline"] == 0.0


def test_chain_timelines_and_finite_cloud():
    episode = Episode(tasks=[[CHAIN_TASK]], edge_bandwidth=static_links([[2 * MB]], 20))
    edge = simulate(one_user_one_server(), episode, [[1]]).tasks[0]
    # upload [0, 2] on the radio and the (unlimited) uplink; run [2, 2.5]; down [2.5, 3].
    assert [(r.resource, r.start, r.end) for r in edge.reservations] == [
        (("radio", 0), 0.0, 2.0),
        (("uplink", 0, None), 0.0, 2.0),
        (("edge_cpu", 0), 2.0, 2.5),
        (("downlink", 0, 0), 2.5, 3.0),
    ]
    cloud = simulate(one_user_one_server(cloud_hz=8 * GHZ), episode, [[2]]).tasks[0]
    # upload [0, 2]; backhaul 4e6 / 1e6 -> [2, 6]; cloud run 0.25 -> [6, 6.25];
    # backhaul down 1e6 / 1e6 -> [6.25, 7.25]; downlink 0.5 -> [7.25, 7.75].
    assert [(r.kind, r.start, r.end) for r in cloud.reservations] == [
        ("radio", 0.0, 2.0),
        ("uplink", 0.0, 2.0),
        ("backhaul_up", 2.0, 6.0),
        ("cloud_cpu", 6.0, 6.25),
        ("backhaul_down", 6.25, 7.25),
        ("downlink", 7.25, 7.75),
    ]
    assert cloud.latency == 7.75
    assert cloud.energy == approx(1.05)


# (2) Queueing on a device CPU and on an edge CPU ------------------------------------------


def test_device_cpu_queue():
    # Two 3e9-cycle tasks on a 1 GHz device, arriving at 0 and 1 (slot 1 s):
    # A runs [0, 3] (latency 3); B waits for the CPU: [max(1, 3), 6] = [3, 6], latency 6 - 1 = 5.
    system = one_user_one_server(horizon=2)
    task = Task(cycles=3 * GHZ, input_data=MB, output_data=MB, deadline=10.0)
    episode = Episode(tasks=[[task], [task]], edge_bandwidth=static_links([[2 * MB]], 10))
    a, b = simulate(system, episode, [[0], [0]]).tasks
    assert (a.stage("device_cpu").start, a.stage("device_cpu").end, a.latency) == (0.0, 3.0, 3.0)
    assert (b.stage("device_cpu").start, b.stage("device_cpu").end, b.latency) == (3.0, 6.0, 5.0)
    assert a.energy == approx(3.0) and b.energy == approx(3.0)  # 1e-27 * 3e9 * 1e18


def test_edge_cpu_queue():
    # Two users (own radios, unlimited sub-channels), both to edge 0 at time 0; edge 1 GHz,
    # links 2 MB/s, tasks of 2e9 cycles, 2 MB in, 1 MB out:
    # A (user 0): up [0, 1]; run [1, 3]; down 1e6 / 2e6 -> [3, 3.5]; latency 3.5.
    # B (user 1): up [0, 1]; run [max(1, 3), 5] = [3, 5]; down [5, 5.5]; latency 5.5.
    system = System(device_hz=[GHZ, GHZ], edge_hz=[GHZ], cloud_bandwidth=[MB])
    task = Task(cycles=2 * GHZ, input_data=2 * MB, output_data=MB, deadline=10.0)
    episode = Episode(tasks=[[task, task]], edge_bandwidth=static_links([[2 * MB]] * 2, 10))
    a, b = simulate(system, episode, [[1, 1]]).tasks
    assert (a.user, b.user) == (0, 1)
    assert (a.stage("radio").start, a.stage("radio").end) == (0.0, 1.0)
    assert (b.stage("radio").start, b.stage("radio").end) == (0.0, 1.0)
    assert (a.stage("edge_cpu").start, a.stage("edge_cpu").end) == (1.0, 3.0)
    assert (b.stage("edge_cpu").start, b.stage("edge_cpu").end) == (3.0, 5.0)
    assert (a.stage("downlink").start, a.stage("downlink").end) == (3.0, 3.5)
    assert (b.stage("downlink").start, b.stage("downlink").end) == (5.0, 5.5)
    assert (a.latency, b.latency) == (3.5, 5.5)


# (3) The radio: one upload at a time per user ---------------------------------------------


def test_radio_serialises_one_users_uploads():
    # One user, two servers, unlimited sub-channels; slot 1 s. Link rates 2 MB/s in slots 0-2,
    # 1 MB/s from slot 3 on. Tasks with 0 cycles and 0 output, so latency = upload end - a.
    # A (slot 0) to edge 0: 6 MB at slot 0's 2 MB/s -> up [0, 3]; latency 3.
    # B (slot 1) to edge 1 (another server: still the same radio): the upload starts at
    # max(1, radio free at 3) = 3, in slot 3, so at 1 MB/s: 2 MB -> [3, 5]; latency 5 - 1 = 4.
    # (Without the radio it would be [1, 2] at slot 1's 2 MB/s.)
    system = System(device_hz=[GHZ], edge_hz=[GHZ, GHZ], cloud_bandwidth=[MB, MB], horizon=2)
    rates = [[[2 * MB, 2 * MB]]] * 3 + [[[MB, MB]]] * 7
    a = Task(cycles=0.0, input_data=6 * MB, output_data=0.0, deadline=10.0)
    b = Task(cycles=0.0, input_data=2 * MB, output_data=0.0, deadline=10.0)
    episode = Episode(tasks=[[a], [b]], edge_bandwidth=rates)
    ra, rb = simulate(system, episode, [[1], [2]]).tasks
    assert (ra.stage("radio").start, ra.stage("radio").end, ra.latency) == (0.0, 3.0, 3.0)
    assert (rb.server, rb.stage("radio").start, rb.stage("radio").end) == (1, 3.0, 5.0)
    assert rb.latency == 4.0


# (4) Uplink sub-channels ------------------------------------------------------------------


@pytest.mark.parametrize(
    "channels, users, uploads",
    [
        # One sub-channel: user 0 [0, 1] on channel 0, user 1 waits: [1, 2] on channel 0.
        (1, 2, [(0.0, 1.0, 0), (1.0, 2.0, 0)]),
        # Two: both at once on channels 0 and 1.
        (2, 2, [(0.0, 1.0, 0), (0.0, 1.0, 1)]),
        # Two, three users: the third takes the earliest free one (both free at 1: channel 0).
        (2, 3, [(0.0, 1.0, 0), (0.0, 1.0, 1), (1.0, 2.0, 0)]),
        # Unlimited: no waiting.
        (None, 3, [(0.0, 1.0, None)] * 3),
    ],
)
def test_uplink_sub_channels(channels, users, uploads):
    # Every user sends 2 MB at 2 MB/s (1 s) to the cloud through server 0 (place 1 + S + 0 = 2),
    # so only the sub-channels contend: backhaul 2e6 / 4e6 = 0.5, cloud 0 s, output 0 bytes.
    # Latency = upload end + 0.5.
    system = System(
        device_hz=[GHZ] * users,
        edge_hz=[GHZ],
        cloud_bandwidth=[4 * MB],
        uplink_channels=[channels],
    )
    task = Task(cycles=GHZ, input_data=2 * MB, output_data=0.0, deadline=10.0)
    episode = Episode(tasks=[[task] * users], edge_bandwidth=static_links([[2 * MB]] * users, 5))
    records = simulate(system, episode, [[2] * users]).tasks
    got = [
        (r.stage("uplink").start, r.stage("uplink").end, r.stage("uplink").resource[2])
        for r in records
    ]
    assert got == uploads
    assert [r.latency for r in records] == [end + 0.5 for _, end, _ in uploads]


# (5) Buffers ------------------------------------------------------------------------------


def buffer_case(buffer, second_place=1, **kw):
    # Edge 1 GHz, links 2 MB/s, tasks 2e9 cycles, 2 MB in, 1 MB out, deadline 10 s.
    system = System(
        device_hz=[GHZ, GHZ],
        edge_hz=[GHZ],
        cloud_bandwidth=[4 * MB],
        buffer=[buffer],
        horizon=3,
        **kw,
    )
    task = Task(cycles=2 * GHZ, input_data=2 * MB, output_data=MB, deadline=10.0)
    tasks = [[task, task], [None, None], [None, task]]
    episode = Episode(tasks=tasks, edge_bandwidth=static_links([[2 * MB]] * 2, 10))
    return simulate(system, episode, [[1, second_place], [0, 0], [0, 1]]).tasks


def test_buffer_of_one_drops_the_second_task():
    a, b, c = buffer_case(buffer=1)
    # A (user 0): up [0, 1]; run [1, 3]; down [3, 3.5]; latency 3.5.
    assert (a.dropped, a.latency) == (False, 3.5)
    # B (user 1): up [0, 1]. At its end x = 1, A has arrived (1 <= 1) and not finished
    # (3 > 1): 1 task >= buffer 1 -> dropped at 1. It never runs nor comes back.
    assert b.dropped and b.drop_time == 1.0 and b.done is None and b.latency is None
    assert [r.kind for r in b.reservations] == ["radio", "uplink"]
    # Cost: latency objective class_weight 1 * penalty 2 * deadline = 20; the energy its
    # upload used: 0.5 W * 1 s = 0.5 J; deadline objective: 1 (a drop, not a miss).
    assert b.costs["latency"] == 20.0
    assert b.energy == 0.5 and b.costs["energy"] == 0.5
    assert b.costs["deadline"] == 1.0 and not b.missed
    # C (user 1, slot 2): up [2, 3]. At x = 3, A finished at 3 (not 3 > 3): 0 tasks -> kept.
    # Its run starts at max(3, edge free at 3) = 3 (B never booked the CPU) -> [3, 5];
    # down [5, 5.5]; latency 5.5 - 2 = 3.5.
    assert not c.dropped
    assert (c.stage("edge_cpu").start, c.stage("edge_cpu").end, c.latency) == (3.0, 5.0, 3.5)


def test_the_drop_penalty_is_class_weighted_and_configurable():
    # Class weight 3: the penalty 2 * 10 = 20 s stands in for the latency: 3 * 20 = 60 (R8).
    _, b, _ = buffer_case(buffer=1, class_weights=[3.0])
    assert b.dropped and b.costs["latency"] == 60.0
    # weighted (w = 0.5): 0.5 * 60 + 0.5 * 0.5 J = 30.25.
    assert b.costs["weighted"] == 30.25
    # A fixed 7 s penalty: 3 * 7 = 21.
    _, b, _ = buffer_case(buffer=1, class_weights=[3.0], drop_penalty=lambda task: 7.0)
    assert b.costs["latency"] == 21.0


def test_buffer_of_two_keeps_both_and_cloud_tasks_pass_through():
    _, b, _ = buffer_case(buffer=2)
    # 1 task present < 2: B runs after A: [3, 5]; down [5, 5.5]; latency 5.5.
    assert not b.dropped and b.latency == 5.5
    # Through server 0 to the cloud (place 2), B does not queue for the edge buffer (R6):
    # up [0, 1]; backhaul 2e6 / 4e6 = 0.5 -> [1, 1.5]; cloud 0; backhaul 1e6 / 4e6 -> 1.75;
    # down 1e6 / 2e6 -> [1.75, 2.25].
    _, b, _ = buffer_case(buffer=1, second_place=2)
    assert not b.dropped and b.latency == 2.25


# (6) Rates of the slot where a transfer starts; attempts ----------------------------------


# Slot 1 s; link rates 1 MB/s in slot 0, 4 MB/s in slots 1-2, 8 MB/s from slot 3 on.
RATES = [[[1 * MB]], [[4 * MB]], [[4 * MB]]] + [[[8 * MB]]] * 20
SLOW_TASK = dict(cycles=0.0, input_data=3 * MB, output_data=2 * MB, deadline=100.0)


def test_transfer_keeps_the_rate_of_its_starting_slot():
    # Edge, 0 cycles. Up: starts in slot 0 -> 3e6 / 1e6 = 3 s -> [0, 3], although slots 1-2
    # are faster. Down: starts at 3.0, exactly on slot 3's start -> 2e6 / 8e6 = 0.25 ->
    # [3, 3.25]. Latency 3.25; energy 0.5 * 3 + 0.1 * 0.25 = 1.525 J.
    episode = Episode(tasks=[[Task(**SLOW_TASK)]], edge_bandwidth=RATES)
    (rec,) = simulate(one_user_one_server(), episode, [[1]]).tasks
    assert (rec.stage("radio").start, rec.stage("radio").end) == (0.0, 3.0)
    assert (rec.stage("downlink").start, rec.stage("downlink").end) == (3.0, 3.25)
    assert rec.latency == 3.25
    assert rec.energy == approx(1.525)


def test_attempts_multiply_transfer_times_and_energy():
    # up: 2 attempts -> 2 * 3e6 / 1e6 = 6 -> [0, 6]; down from 6 (slot 6, 8 MB/s) with 3
    # attempts -> 3 * 2e6 / 8e6 = 0.75 -> [6, 6.75]. Energy 0.5 * 6 + 0.1 * 0.75 = 3.075 J.
    task = Task(**SLOW_TASK, attempts={"up": 2, "down": 3})
    (rec,) = simulate(one_user_one_server(), Episode([[task]], RATES), [[1]]).tasks
    assert (rec.stage("radio").end, rec.stage("downlink").end) == (6.0, 6.75)
    assert rec.latency == 6.75 and rec.energy == approx(3.075)


def test_backhaul_attempts_and_per_slot_backhaul():
    # Cloud through server 0, backhaul 1 MB/s, attempts backhaul up 2, backhaul down 3:
    # up [0, 3]; backhaul up 2 * 3e6 / 1e6 = 6 -> [3, 9]; cloud 0; backhaul down
    # 3 * 2e6 / 1e6 = 6 -> [9, 15]; down in slot 15 at 8 MB/s: 0.25 -> [15, 15.25].
    # Energy: only the device's link: 0.5 * 3 + 0.1 * 0.25 = 1.525 J.
    task = Task(**SLOW_TASK, attempts={"backhaul_up": 2, "backhaul_down": 3})
    (rec,) = simulate(one_user_one_server(), Episode([[task]], RATES), [[2]]).tasks
    assert [(r.kind, r.start, r.end) for r in rec.reservations][2:] == [
        ("backhaul_up", 3.0, 9.0),
        ("cloud_cpu", 9.0, 9.0),
        ("backhaul_down", 9.0, 15.0),
        ("downlink", 15.0, 15.25),
    ]
    assert rec.energy == approx(1.525)
    # Per-slot backhaul, 3 MB/s in slot 3 only: backhaul up starts in slot 3:
    # 2 * 3e6 / 3e6 = 2 -> [3, 5]; down the backhaul from 5 at 1 MB/s: 6 -> [5, 11];
    # downlink [11, 11.25].
    backhaul = [[MB]] * 3 + [[3 * MB]] + [[MB]] * 20
    rec = simulate(one_user_one_server(), Episode([[task]], RATES, None, backhaul), [[2]]).tasks[0]
    assert (rec.stage("backhaul_up").end, rec.stage("backhaul_down").end, rec.done) == (
        5.0,
        11.0,
        11.25,
    )


def test_a_transfer_past_the_given_slots_is_an_error():
    # Up [0, 3] at 1 MB/s; the download would start in slot 3, but only 3 slots are given.
    episode = Episode(tasks=[[Task(**SLOW_TASK)]], edge_bandwidth=RATES[:3])
    with pytest.raises(ValueError, match="slot 3"):
        simulate(one_user_one_server(), episode, [[1]])


# (7) Deadlines ----------------------------------------------------------------------------


@pytest.mark.parametrize("deadline, missed", [(2.5, True), (3.0, False), (3.5, False)])
def test_deadline_miss_is_strict(deadline, missed):
    # 3e9 cycles on the 1 GHz device: latency 3; a miss iff 3 > deadline. It still completes:
    # the latency objective still charges the latency.
    task = Task(cycles=3 * GHZ, input_data=MB, output_data=MB, deadline=deadline)
    episode = Episode([[task]], static_links([[2 * MB]], 5))
    (rec,) = simulate(one_user_one_server(), episode, [[0]]).tasks
    assert rec.latency == 3.0 and rec.done == 3.0
    assert rec.missed is missed
    assert rec.costs["deadline"] == (1.0 if missed else 0.0)
    assert rec.costs["latency"] == 3.0


def test_a_queue_can_cause_the_miss():
    # A: 3e9 cycles at 0 -> [0, 3]. B: 1e9 cycles at 1, deadline 2: alone it takes 1 s, but it
    # runs [3, 4]: latency 3 > 2 -> a miss; the slot's deadline cost is 1.
    system = one_user_one_server(horizon=2)
    a = Task(cycles=3 * GHZ, input_data=MB, output_data=MB, deadline=10.0)
    b = Task(cycles=1 * GHZ, input_data=MB, output_data=MB, deadline=2.0)
    result = simulate(system, Episode([[a], [b]], static_links([[2 * MB]], 5)), [[0], [0]])
    assert [r.missed for r in result.tasks] == [False, True]
    assert [s.cost["deadline"] for s in result.slots] == [0.0, 1.0]


# (8) Age of information -------------------------------------------------------------------


def test_aoi_two_slots():
    # Two users, device 1 GHz, slot 1 s, w = [1, 2].
    # User 0: slot 0 task of 0.5e9 cycles -> delivered at 0.5, generated at 0 (the reset's
    #   own generation time: the age does not drop); slot 1 task of 0.25e9 -> [1, 1.25],
    #   generated at 1.
    # User 1: no task in slot 0; slot 1 task of 2e9 -> delivered at 3, after slot 1.
    # Slot 0: user 0: int_0^1 x dx = 0.5; user 1 the same -> 1 * 0.5 + 2 * 0.5 = 1.5.
    # Slot 1: user 0: int_1^1.25 x dx = (1.5625 - 1) / 2 = 0.28125, then age x - 1:
    #   int_1.25^2 (x - 1) dx = (4 - 1.5625) / 2 - 0.75 = 0.46875 -> 0.75;
    #   user 1: int_1^2 x dx = 1.5 -> 1 * 0.75 + 2 * 1.5 = 3.75.
    system = System(
        device_hz=[GHZ, GHZ], edge_hz=[GHZ], cloud_bandwidth=[MB], horizon=2, aoi_weights=[1, 2]
    )

    def task(cycles):
        return Task(cycles=cycles, input_data=MB, output_data=MB, deadline=10.0)

    tasks = [[task(0.5 * GHZ), None], [task(0.25 * GHZ), task(2 * GHZ)]]
    result = simulate(system, Episode(tasks, static_links([[MB]] * 2, 5)), [[0, 0], [0, 0]])
    assert result.slots[0].aoi_per_user == [0.5, 0.5]
    assert result.slots[0].aoi == 1.5
    assert result.slots[1].aoi_per_user == [0.75, 1.5]
    assert result.slots[1].aoi == 3.75
    assert result.slots[1].aoi_relative == 3.75  # slot 1 s: / 1**2


def test_aoi_an_older_update_delivered_late_does_not_raise_the_age():
    # One user, slot 1 s, three slots. Slot 1: A to the edge, 1.75 MB at 1 MB/s, 0 cycles,
    # 0 output: delivered at 2.75, generated at 1. Slot 2: B on the device, 0.25e9 cycles:
    # delivered at 2.25, generated at 2.
    # Slot 0: int_0^1 x = 0.5. Slot 1: int_1^2 x = 1.5 (nothing delivered).
    # Slot 2: [2, 2.25] age x: (5.0625 - 4) / 2 = 0.53125; [2.25, 2.75] age x - 2:
    #   (7.5625 - 5.0625) / 2 - 2 * 0.5 = 0.25; [2.75, 3]: A (generated 1 < 2) leaves the
    #   age at x - 2: (9 - 7.5625) / 2 - 2 * 0.25 = 0.21875. Sum 1.0 (1.25 if A reset it).
    system = one_user_one_server(horizon=3)
    a = Task(cycles=0.0, input_data=1.75 * MB, output_data=0.0, deadline=10.0)
    b = Task(cycles=0.25 * GHZ, input_data=MB, output_data=MB, deadline=10.0)
    episode = Episode([[None], [a], [b]], static_links([[MB]], 5))
    result = simulate(system, episode, [[0], [1], [0]])
    assert [r.done for r in result.tasks] == [2.75, 2.25]
    assert [s.aoi for s in result.slots] == [0.5, 1.5, 1.0]


def test_age_integral_and_relative_aoi_with_a_longer_slot():
    # No deliveries, slot 2 s: int_0^2 x dx = 2; relative: 2 / 2**2 = 0.5.
    system = one_user_one_server(slot_seconds=2.0)
    result = simulate(system, Episode([[None]], static_links([[MB]], 2)), [[0]])
    assert (result.slots[0].aoi, result.slots[0].aoi_relative) == (2.0, 0.5)
    # A drop never delivers: the age keeps growing.
    assert age_integral([], 3.0, 4.0) == 3.5  # (16 - 9) / 2
    assert age_integral([(1.0, 3.5)], 3.0, 4.0) == 3.5 - 0.5  # x - 1 on [3.5, 4]: - 1 * 0.5


# (9) Within-slot order --------------------------------------------------------------------


def ordering_system(users, class_weights):
    return System(
        device_hz=[GHZ] * users, edge_hz=[GHZ], cloud_bandwidth=[MB], class_weights=class_weights
    )


def test_higher_class_weight_is_placed_first():
    # Classes weigh [1, 5]; user 0 has a class-0 task, user 1 a class-1 task; the slot's random
    # order is [0, 1], but weight comes first: user 1 is placed first.
    # Both upload 2 MB at 2 MB/s to edge 0 (unlimited sub-channels): [0, 1]; 2e9 cycles at
    # 1 GHz: user 1 runs [1, 3], user 0 [3, 5]; no output: latencies 3 and 5.
    # Latency costs: 5 * 3 = 15 and 1 * 5 = 5; the slot costs 20.
    task0 = Task(cycles=2 * GHZ, input_data=2 * MB, output_data=0.0, deadline=10.0, k=0)
    task1 = Task(cycles=2 * GHZ, input_data=2 * MB, output_data=0.0, deadline=10.0, k=1)
    episode = Episode([[task0, task1]], static_links([[2 * MB]] * 2, 8), order=[[0, 1]])
    sim = ReferenceSimulator(ordering_system(2, [1.0, 5.0]), episode)
    slot = sim.step([1, 1])
    assert slot.placement_order == [1, 0]
    assert [(r.user, r.stage("edge_cpu").start, r.latency) for r in slot.tasks] == [
        (1, 1.0, 3.0),
        (0, 3.0, 5.0),
    ]
    assert [r.costs["latency"] for r in slot.tasks] == [15.0, 5.0]
    assert slot.cost["latency"] == 20.0


def test_ties_follow_the_slots_random_order_and_users_without_tasks_are_skipped():
    # Equal classes, order [2, 1, 0], user 2 without a task: placed 1 then 0, so user 1 runs
    # [1, 3] and user 0 [3, 5]. User 2's place is ignored.
    task = Task(cycles=2 * GHZ, input_data=2 * MB, output_data=0.0, deadline=10.0)
    episode = Episode([[task, task, None]], static_links([[2 * MB]] * 3, 8), order=[[2, 1, 0]])
    slot = ReferenceSimulator(ordering_system(3, [1.0]), episode).step([1, 1, 0])
    assert slot.placement_order == [1, 0]
    assert [(r.user, r.stage("edge_cpu").start) for r in slot.tasks] == [(1, 1.0), (0, 3.0)]


# (10) The relative normaliser -------------------------------------------------------------


def test_relative_normaliser_uses_empty_queues_and_the_current_bandwidths():
    # Device 0.5 GHz, edge 4 GHz, backhaul 1 MB/s; class weight 2; slot 1 s.
    # Link: 2 MB/s in slots 0-1, 1 MB/s from slot 2 on.
    # Slot 0: A to the edge: 14e9 cycles, no data: runs [0, 3.5].
    # Slot 1: B (2e9 cycles, 4 MB in, 1 MB out) to the edge: up at slot 1's 2 MB/s [1, 3];
    #   runs [max(3, 3.5), 4] = [3.5, 4]; down in slot 4 at 1 MB/s: 1 s -> [4, 5];
    #   latency 4; energy 0.5 * 2 + 0.1 * 1 = 1.1 J.
    # Alone at slot 1's rates (2 MB/s, backhaul 1 MB/s), empty queues, one attempt:
    #   device: 2e9 / 0.5e9 = 4 s, energy 1e-27 * 2e9 * 0.25e18 = 0.5 J;
    #   edge: 2 + 0.5 + 0.5 = 3 s, 1.05 J; cloud: 6 + 0 + 1.5 = 7.5 s, 1.05 J.
    #   latency: 2 * min(4, 3, 7.5) = 6; energy: 0.5;
    #   weighted (w 0.5): device 0.5 * 8 + 0.5 * 0.5 = 4.25, edge 0.5 * 6 + 0.5 * 1.05 = 3.525,
    #   cloud 0.5 * 15 + 0.525 = 8.025 -> 3.525; deadline: 0 (edge alone meets it).
    # B's costs: latency 2 * 4 = 8 -> 8 / 6; energy 1.1 / 0.5 = 2.2;
    #   weighted 0.5 * 8 + 0.5 * 1.1 = 4.55 -> 4.55 / 3.525; deadline: 0 / 0 -> None.
    system = System(
        device_hz=[0.5 * GHZ],
        edge_hz=[4 * GHZ],
        cloud_bandwidth=[MB],
        class_weights=[2.0],
        horizon=2,
    )
    a = Task(cycles=14 * GHZ, input_data=0.0, output_data=0.0, deadline=100.0)
    b = Task(cycles=2 * GHZ, input_data=4 * MB, output_data=MB, deadline=100.0)
    rates = [[[2 * MB]]] * 2 + [[[MB]]] * 10
    result = simulate(system, Episode([[a], [b]], rates), [[1], [1]])
    rec = result.tasks[1]
    assert (rec.latency, rec.energy) == (4.0, approx(1.1))
    assert rec.normaliser == approx(
        {"latency": 6.0, "energy": 0.5, "weighted": 3.525, "deadline": 0.0}
    )
    assert rec.relative["latency"] == approx(8 / 6)
    assert rec.relative["energy"] == approx(2.2)
    assert rec.relative["weighted"] == approx(4.55 / 3.525)
    assert rec.relative["deadline"] is None
    assert result.slots[1].relative["latency"] == approx(8 / 6)
    assert result.slots[1].relative["deadline"] is None
    # The normaliser ignores the realised attempts (one per leg) and any queue.
    again = best_alone(system, b, 0, 1.0, [2 * MB], [MB])
    assert again == approx(rec.normaliser)


# Dispatch order: later bookings never move earlier ones -----------------------------------


def test_later_decisions_never_change_earlier_timelines():
    rnd = random.Random(7)
    U, S, T = 3, 2, 5
    system = System(
        device_hz=[GHZ, 2 * GHZ, 0.5 * GHZ],
        edge_hz=[4 * GHZ, 2 * GHZ],
        cloud_bandwidth=[MB, 2 * MB],
        uplink_channels=[1, 2],
        buffer=[1, None],
        horizon=T,
        class_weights=[1.0, 3.0],
    )

    def draw_task():
        return Task(
            cycles=rnd.uniform(0, 3) * GHZ,
            input_data=rnd.uniform(0, 3) * MB,
            output_data=rnd.uniform(0, 2) * MB,
            deadline=rnd.uniform(1, 5),
            k=rnd.randrange(2),
            attempts={leg: rnd.randint(1, 2) for leg in ("up", "down")},
        )

    tasks = [[draw_task() if rnd.random() < 0.8 else None for _ in range(U)] for _ in range(T)]
    rates = [[[rnd.uniform(0.5, 2) * MB for _ in range(S)] for _ in range(U)] for _ in range(200)]
    orders = [rnd.sample(range(U), U) for _ in range(T)]
    episode = Episode(tasks, rates, orders)
    decisions = [[rnd.randrange(1 + 2 * S) for _ in range(U)] for _ in range(T)]
    base = simulate(system, episode, decisions).tasks
    for _ in range(5):
        changed = decisions[:2] + [[rnd.randrange(1 + 2 * S) for _ in range(U)] for _ in range(3)]
        other = simulate(system, episode, changed).tasks
        n = sum(1 for t in tasks[:2] for task in t if task is not None)
        assert [r.reservations for r in other[:n]] == [r.reservations for r in base[:n]]
    # Invariants of every task: contended resources never overlap.
    busy: dict = {}
    for rec in base:
        for r in rec.reservations:
            unlimited = r.kind == "uplink" and r.resource[2] is None
            if r.contended and not unlimited:
                busy.setdefault(r.resource, []).append((r.start, r.end))
    for spans in busy.values():
        spans.sort()
        for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False):
            assert s2 >= e1 - 1e-12
    assert all(math.isclose(r.latency, r.done - r.arrival) for r in base if not r.dropped)


def test_bad_inputs_are_refused():
    episode = Episode([[CHAIN_TASK]], static_links([[2 * MB]], 10))
    with pytest.raises(ValueError, match="place 3"):
        simulate(one_user_one_server(), episode, [[3]])
    with pytest.raises(ValueError, match="permutation"):
        ReferenceSimulator(one_user_one_server(), Episode([[CHAIN_TASK]], [[[MB]]], [[1]]))
    with pytest.raises(ValueError, match="attempts"):
        bad = Task(cycles=GHZ, input_data=MB, output_data=MB, deadline=1.0, attempts={"up": 0})
        simulate(one_user_one_server(), Episode([[bad]], static_links([[MB]], 10)), [[1]])
