"""``MecOffloadMulti-v0``: a central dispatcher places every user's new task each slot; and its
native vector env, the batched core itself.

The classes hold the manual and the keyword arguments; the episodes are the family's
(:mod:`gym_mecoffload.multi.episodes`) and the env plumbing is the core's pair of adapters
(:mod:`gym_mecoffload.core.envs`). The PettingZoo view is
:mod:`gym_mecoffload.multi.parallel`.
"""

from __future__ import annotations

from typing import Any

from gym_mecoffload.core.envs import EpisodesEnv, EpisodesVectorEnv
from gym_mecoffload.core.episodes import RewardMode
from gym_mecoffload.core.objective import KAPPA, LATENCY_WEIGHT, RX_POWER, TX_POWER, Objective
from gym_mecoffload.multi.episodes import MultiSettings, MultiSource
from gym_mecoffload.multi.model import MultiScenario, make_scenario


def multi_settings(
    scenario: str | MultiScenario,
    objective: str,
    reward_mode: RewardMode,
    latency_weight: float,
    kappa: float,
    tx_power: float,
    rx_power: float,
    scenario_options: dict[str, Any],
) -> MultiSettings:
    """The validated settings every view of the family is built from."""
    constants = Objective("weighted", latency_weight, kappa, tx_power, rx_power)
    return MultiSettings(
        make_scenario(scenario, **scenario_options), objective, constants, reward_mode
    )


class MecOffloadMultiEnv(EpisodesEnv):
    """
    ## Description

    Many users share several edge servers and the cloud over time (SPEC-MULTI). At the
    start of each slot every user may receive a task (cycles, input and output data, a
    deadline, a priority class); a central dispatcher places each new task on its user's
    device, an edge server, or the cloud through a server. Every device CPU, user radio,
    server sub-channel and edge CPU serves in dispatch order, so a task's latency is
    known when it is placed, and depends on everyone placed before it through the queues.

    ## Action Space

    `MultiDiscrete([1 + 2S] * U)`: a place per user: 0 its device, 1 + s edge server s,
    1 + S + s the cloud through server s. The action of a user without a task is
    ignored; ``info["action_mask"]`` (U, 1 + 2S) shows place 0 only for it.

    ## Observation Space

    `Box(0, float32 max, (U (9 + S) + 5S + 1,), float32)`: every user's task, CPU and
    radio backlogs, link rates and CPU; every server's backlog, booked tasks, sub-channel
    wait, CPU and backhaul; the episode's progress (:mod:`gym_mecoffload.multi.observations`
    has the table and units: times in slots, Gcycles, MB, MB/s, GHz).

    ## Rewards

    Minus the slot's cost, summed over the users placed in it. ``objective="latency"``
    (default): each task costs its class weight times its latency (s); a task dropped by a
    full buffer costs ``drop_penalty`` (default twice its deadline). ``"energy"``: the
    device's joules; ``"weighted"``: ``latency_weight`` times the latency cost plus the
    rest times the energy; ``"deadline"``: misses plus drops; ``"aoi"``: the users'
    weighted age of information integrated over the slot (s^2). With
    ``reward_mode="relative"`` each task's cost is divided by its best cost alone (empty
    queues, the slot's rates), and the AoI by Δ^2: scale-free.

    ## Starting State

    Empty queues at time 0; the platform (CPU speeds, link means, backhauls), every
    arrival, task, link rate per slot, transfer attempt and the order of users within
    each slot are drawn at reset from the env's generator (a seed fixes the episode
    whatever the dispatcher does), or given as ``reset(options={"episodes": e})``.

    ## Episode End

    Truncated after ``horizon`` slots (queued work is left). The final info holds the
    episode's `tasks`, `latency_mean` and `latency_p95` (s), `misses`, `drops`, `energy`
    (J), `aoi` (s^2), `cost` and each resource's utilisation (booked seconds over the
    seconds elapsed): `device_utilisation` and `radio_utilisation` (U,),
    `uplink_utilisation` and `edge_utilisation` (S,). Every other info holds
    `action_mask`, the utilisations so far and the last slot's `slot_tasks`,
    `slot_latency_mean`, `slot_latency_p95`, `slot_misses`, `slot_drops`, `slot_energy`
    (and `slot_aoi` under ``objective="aoi"``).

    ## Arguments

    ``gym.make("MecOffloadMulti-v0", scenario="multi", objective="latency",
    reward_mode="absolute", render_mode=None, **sizes)``: ``scenario`` is a preset
    (``"multi"``: 10 users, 3 servers; ``"paper"``: the paper's task ranges, one server;
    ``"tiny"``: the exact expert's tier) or a ``MultiScenario``; every other keyword
    (``users``, ``servers``, ``horizon``, ``slot_seconds``, ``uplink_channels``,
    ``buffer``, ``arrival_probability``, ``class_weights``, ``channel``,
    ``outage_probability``, ...) changes one field of it and is validated.
    ``latency_weight``, ``kappa``, ``tx_power``, ``rx_power``: the energy model (SPEC.md).

    ## Version History

    * v0: initial version.
    """

    def __init__(
        self,
        scenario: str | MultiScenario = "multi",
        objective: str = "latency",
        reward_mode: RewardMode = "absolute",
        render_mode: str | None = None,
        latency_weight: float = LATENCY_WEIGHT,
        kappa: float = KAPPA,
        tx_power: float = TX_POWER,
        rx_power: float = RX_POWER,
        **scenario_options: Any,
    ) -> None:
        settings = multi_settings(
            scenario,
            objective,
            reward_mode,
            latency_weight,
            kappa,
            tx_power,
            rx_power,
            scenario_options,
        )
        super().__init__(MultiSource(settings), render_mode)
        self.settings = settings

    @property
    def core(self):
        """The batched core of the current episode (one system)."""
        if self._episodes is None:
            raise RuntimeError("no episode yet: call reset() first")
        return self._episodes.core


class MecOffloadMultiVectorEnv(EpisodesVectorEnv):
    """``num_envs`` systems of ``MecOffloadMulti-v0`` on one batched core (its manual has
    the details); the keyword arguments are the single env's, plus ``autoreset_mode``."""

    def __init__(
        self,
        num_envs: int = 1,
        scenario: str | MultiScenario = "multi",
        objective: str = "latency",
        reward_mode: RewardMode = "absolute",
        render_mode: str | None = None,
        latency_weight: float = LATENCY_WEIGHT,
        kappa: float = KAPPA,
        tx_power: float = TX_POWER,
        rx_power: float = RX_POWER,
        autoreset_mode: Any = None,
        **scenario_options: Any,
    ) -> None:
        settings = multi_settings(
            scenario,
            objective,
            reward_mode,
            latency_weight,
            kappa,
            tx_power,
            rx_power,
            scenario_options,
        )
        super().__init__(MultiSource(settings), num_envs, render_mode, autoreset_mode)
        self.settings = settings

    @property
    def core(self):
        """The batched core of the current episodes (``num_envs`` systems)."""
        if self._episodes is None:
            raise RuntimeError("no episodes yet: call reset() first")
        return self._episodes.core
