"""One system of the batched core's episodes as the reference simulator's inputs."""

from __future__ import annotations

from reference import Episode, System, Task

from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.model import LEGS


def reference_of(scenario, episodes, b, objective: Objective):
    """System b of the core's episodes as the reference's inputs."""
    sc, ep = scenario, episodes
    T, U = sc.horizon, sc.users
    system = System(
        device_hz=list(ep.device_hz[b]),
        edge_hz=list(ep.edge_hz[b]),
        cloud_bandwidth=list(ep.cloud_bandwidth[b]),
        uplink_channels=[None if c == 0 else int(c) for c in sc.uplink_channels],
        buffer=[None if c == 0 else int(c) for c in sc.buffer],
        cloud_hz=sc.cloud_hz,
        slot_seconds=sc.slot_seconds,
        horizon=T,
        class_weights=list(sc.class_weights),
        drop_penalty=(lambda task: 2.0 * task.deadline)
        if sc.drop_penalty is None
        else (lambda task, p=sc.drop_penalty: p),
        aoi_weights=list(sc.aoi_weights),
        kappa=objective.kappa,
        tx_power=objective.tx_power,
        rx_power=objective.rx_power,
        weight=objective.latency_weight,
    )
    tasks = []
    for t in range(T):
        row = []
        for u in range(U):
            if not ep.arrive[b, t, u]:
                row.append(None)
                continue
            row.append(
                Task(
                    cycles=float(ep.cycles[b, t, u]),
                    input_data=float(ep.input_data[b, t, u]),
                    output_data=float(ep.output_data[b, t, u]),
                    deadline=float(ep.deadline[b, t, u]),
                    k=int(ep.k[b, t, u]),
                    attempts={leg: int(ep.attempts[b, t, u, i]) for i, leg in enumerate(LEGS)},
                )
            )
        tasks.append(row)
    rates = ep.bandwidth[b].tolist()
    rates += [rates[-1]] * 100_000  # the core holds the last drawn slot's rate beyond
    episode = Episode(tasks=tasks, edge_bandwidth=rates, order=ep.order[b].tolist())
    return system, episode
