"""``MecOffloadDag-v0``: place a DAG task's subtasks one per step, in HEFT's priority
order; and its native vector env.

The classes hold the manual and the keyword arguments; the episodes are the DAG
family's (:mod:`gym_mecoffload.dag.episodes`) and the env plumbing is the core's one
pair of adapters (:mod:`gym_mecoffload.core.envs`).
"""

from __future__ import annotations

from typing import Any

from gym_mecoffload.core.envs import EpisodesEnv, EpisodesVectorEnv
from gym_mecoffload.core.episodes import RewardMode
from gym_mecoffload.core.objective import KAPPA, LATENCY_WEIGHT, RX_POWER, TX_POWER, Objective
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.dag.data import DagDataset
from gym_mecoffload.dag.episodes import DagEpisode, DagEpisodes, DagSettings, DagSource
from gym_mecoffload.dag.model import DagBatch


class MecOffloadDagEnv(EpisodesEnv):
    """
    ## Description

    Offload a DAG task (SPEC-DAG, the paper's future work) one subtask per step, in the
    task's HEFT priority order: run it on the device, the edge or the cloud. Tasks come
    from a daggen-style generator (``fat``, ``density``, ``regularity``, ``jump``) on the
    scenario's ranges, or from ``task_pool``.

    ## Action Space

    `Discrete(3)`: the place of the current subtask (0 device, 1 edge, 2 cloud).

    ## Observation Space

    `Box(0, float32 max, (n**2 + 10n + 20,), float32)`: the subtasks' cycles, inputs and
    outputs, the edge-data matrix, the places chosen so far, the current subtask, finish
    times, when each resource is next free, the partial makespan and the platform
    (:mod:`gym_mecoffload.dag.observations` has the table).

    ## Rewards

    Minus the increase of the cost so far: for ``objective="latency"`` (default) the
    partial makespan's increase in seconds, so the return is minus the makespan. With
    ``reward_mode="relative"``, divided by the task's expert cost (the MILP's optimum;
    with contention the best known): scale-free, -1 for a policy that matches the expert.

    ## Starting State

    A fresh task at each reset, drawn from the env's generator (seeded by
    ``reset(seed=...)``) or from ``task_pool``, or the one given as
    ``reset(options={"dag": task})`` (a `DagBatch` of one, padded to n); nothing placed
    yet, every resource free at time 0, the current subtask the first in priority order.
    With ``optimum="milp"`` the expert labels the task at reset.

    ## Episode End

    Terminated after n steps. The final info holds `makespan` (s), `energy` (J), `cost`,
    `decision`, and with ``optimum="milp"`` (or a labelled pool) the expert's
    `milp_decision`, `milp_cost`, `milp_exact`, `lower_bound` and, without contention,
    `optimal_cost`.

    ## Arguments

    * `n_subtasks` (20): subtasks per task, at most 64 (smaller pool graphs are padded).
    * `fat`, `density`, `regularity`, `jump`: the generator's (daggen's) parameters.
    * `scenario`: ranges of cycles, bytes and the platform (`"paper"`).
    * `contention` (False): one subtask at a time on the device and edge CPUs, one transfer
      at a time per link (SPEC-DAG section 2).
    * `objective`, `latency_weight`, `kappa`, `tx_power`, `rx_power`: as `MecOffload-v0`.
    * `task_pool`: a `DagBatch` or a labelled `DagDataset` to draw tasks from.
    * `optimum`: `"none"` (default) or `"milp"`: label each task at reset (milliseconds
      without contention; with contention the best known, seconds for large n).
    * `reward_mode`: `"absolute"` (default) or `"relative"` (needs the expert:
      ``optimum="milp"`` or a labelled pool).
    * `render_mode`: `"ansi"` or `"rgb_array"`.

    ## Version History

    * v0: the initial version (SPEC-DAG). Later changes kept every seeded episode the
      same, bit for bit: the single-task fast path, the scale-free MILP expert (its
      labels are now exact where they were wrong), the readable `rgb_array` frame.
    """

    def __init__(
        self,
        n_subtasks: int = 20,
        *,
        fat: float = 0.5,
        density: float = 0.5,
        regularity: float = 0.5,
        jump: int = 1,
        scenario: str | Scenario = "paper",
        contention: bool = False,
        objective: str | Objective = "latency",
        latency_weight: float = LATENCY_WEIGHT,
        kappa: float = KAPPA,
        tx_power: float = TX_POWER,
        rx_power: float = RX_POWER,
        task_pool: DagBatch | DagDataset | None = None,
        optimum: str = "none",
        reward_mode: RewardMode = "absolute",
        render_mode: str | None = None,
    ) -> None:
        settings = DagSettings.validate(
            n_subtasks=n_subtasks,
            fat=fat,
            density=density,
            regularity=regularity,
            jump=jump,
            scenario=scenario,
            contention=contention,
            objective=objective,
            latency_weight=latency_weight,
            kappa=kappa,
            tx_power=tx_power,
            rx_power=rx_power,
            task_pool=task_pool,
            optimum=optimum,
            reward_mode=reward_mode,
        )
        super().__init__(DagSource(settings, vector=False), render_mode)

    @property
    def settings(self) -> DagSettings:
        return self.source.settings

    @property
    def layout(self) -> Any:
        """The observation's layout (:class:`~gym_mecoffload.dag.observations.DagLayout`)."""
        return self.source.layout

    @property
    def episodes(self) -> DagEpisode:
        """The current episode: its task (a batch of one), schedule and expert labels."""
        if self._episodes is None:
            raise RuntimeError("no task yet: call reset() first")
        return self._episodes

    @property
    def dag(self) -> DagBatch:
        """The current task (padded), as a batch of one."""
        return self.episodes.dags


class MecOffloadDagVectorEnv(EpisodesVectorEnv):
    """``num_envs`` copies of ``MecOffloadDag-v0`` stepped together in numpy (every episode
    lasts n steps, so they run in lockstep). Autoreset: by default the step after the last one
    resets every sub-env and ignores its actions (gymnasium 1.x's default, on both lines);
    ``autoreset_mode="same_step"`` (or None: the installed line's default) as the chain's
    vector envs. Its other arguments are the single env's."""

    def __init__(
        self,
        num_envs: int = 1,
        n_subtasks: int = 20,
        *,
        fat: float = 0.5,
        density: float = 0.5,
        regularity: float = 0.5,
        jump: int = 1,
        scenario: str | Scenario = "paper",
        contention: bool = False,
        objective: str | Objective = "latency",
        latency_weight: float = LATENCY_WEIGHT,
        kappa: float = KAPPA,
        tx_power: float = TX_POWER,
        rx_power: float = RX_POWER,
        task_pool: DagBatch | DagDataset | None = None,
        optimum: str = "none",
        reward_mode: RewardMode = "absolute",
        render_mode: str | None = None,
        autoreset_mode: str | None = "next_step",
    ) -> None:
        settings = DagSettings.validate(
            n_subtasks=n_subtasks,
            fat=fat,
            density=density,
            regularity=regularity,
            jump=jump,
            scenario=scenario,
            contention=contention,
            objective=objective,
            latency_weight=latency_weight,
            kappa=kappa,
            tx_power=tx_power,
            rx_power=rx_power,
            task_pool=task_pool,
            optimum=optimum,
            reward_mode=reward_mode,
        )
        super().__init__(DagSource(settings, vector=True), num_envs, render_mode, autoreset_mode)

    @property
    def settings(self) -> DagSettings:
        return self.source.settings

    @property
    def episodes(self) -> DagEpisodes:
        """The sub-envs' current episodes: their tasks, schedules and expert labels."""
        if self._episodes is None:
            raise RuntimeError("no tasks yet: call reset() first")
        return self._episodes

    @property
    def dags(self) -> DagBatch:
        """The sub-envs' current tasks (padded), one each."""
        return self.episodes.dags
