"""A chain env's validated settings: its keyword arguments checked once, how it draws tasks
and how it reads a user's ``options["state"]``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gym_mecoffload.chain.model import TaskBatch, sample_tasks
from gym_mecoffload.channels.processes import Channel, ChannelModel
from gym_mecoffload.core.checks import check_count
from gym_mecoffload.core.episodes import RewardMode, check_reward_mode
from gym_mecoffload.core.objective import Objective, make_objective
from gym_mecoffload.core.scenario import Scenario, as_scenario


@dataclass(frozen=True)
class EnvSettings:
    """An environment's validated configuration (see the env docstrings for each field)."""

    n_subtasks: int
    scenario: Scenario
    objective: Objective
    task_pool: TaskBatch | None
    reward_mode: RewardMode
    channel: ChannelModel

    @classmethod
    def validate(
        cls,
        *,
        n_subtasks: int,
        scenario: str | Scenario,
        objective: str | Objective,
        latency_weight: float,
        kappa: float,
        tx_power: float,
        rx_power: float,
        task_pool: TaskBatch | None,
        reward_mode: str,
        channel: str | Channel,
        outage_probability: float,
    ) -> EnvSettings:
        n_subtasks = check_count("n_subtasks", n_subtasks, 1)
        check_reward_mode(reward_mode)
        if task_pool is not None:
            if not isinstance(task_pool, TaskBatch) or len(task_pool) == 0:
                raise ValueError(f"task_pool must be a non-empty TaskBatch; got {task_pool!r}")
            if task_pool.n_subtasks != n_subtasks:
                raise ValueError(
                    f"task_pool has {task_pool.n_subtasks} subtasks; this env has n_subtasks={n_subtasks}"
                )
        scenario = as_scenario(scenario)
        return cls(
            n_subtasks=n_subtasks,
            scenario=scenario,
            objective=make_objective(objective, latency_weight, kappa, tx_power, rx_power),
            task_pool=task_pool,
            reward_mode=reward_mode,
            channel=ChannelModel.build(channel, outage_probability, scenario),
        )

    def sample(self, size: int, rng: np.random.Generator) -> TaskBatch:
        """``size`` tasks from the scenario, or uniformly from the pool, drawn only from ``rng``."""
        if self.task_pool is None:
            return sample_tasks(self.scenario, size, self.n_subtasks, rng=rng)
        return self.task_pool[rng.integers(len(self.task_pool), size=size)]

    def given(self, state: Any, sizes: tuple[int, ...] = (1,)) -> TaskBatch:
        """A user's ``options["state"]``: a mapping of SI fields or a TaskBatch of an allowed size."""
        if isinstance(state, TaskBatch):
            tasks = state
        elif isinstance(state, Mapping):
            # Check the lengths against this env first, so the wrong one is named.
            for name, length in (("cycles", self.n_subtasks), ("data", self.n_subtasks + 1)):
                if name in state and np.ndim(state[name]) == 1 and len(state[name]) != length:
                    raise ValueError(
                        f"options['state'][{name!r}] must have {length} entries for "
                        f"n_subtasks={self.n_subtasks}; got {len(state[name])}"
                    )
            tasks = TaskBatch.from_state(state)
        else:
            raise TypeError(
                "options['state'] must be a mapping of the SPEC's fields (SI units) or a "
                f"TaskBatch; got {type(state).__name__}"
            )
        if len(tasks) not in sizes:
            allowed = " or ".join(str(size) for size in sizes)
            raise ValueError(
                f"options['state'] must hold {allowed} task(s); got a TaskBatch of {len(tasks)}"
            )
        if tasks.n_subtasks != self.n_subtasks:
            raise ValueError(
                f"options['state'] has {tasks.n_subtasks} subtasks; this env has n_subtasks={self.n_subtasks}"
            )
        return tasks
