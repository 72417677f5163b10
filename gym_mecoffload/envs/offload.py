"""The offloading environments: one subtask per step, or the whole decision at once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_mecoffload import solvers
from gym_mecoffload.model import (
    DEVICE,
    N_PLACES,
    Objective,
    Scenario,
    TaskBatch,
    as_scenario,
    features,
    n_features,
    path_cost,
    step_costs,
)

# After a seeded reset, tasks are drawn in blocks of 1, 2, 4, ... up to this many, so
# that resets are cheap whether an env is reseeded every episode or never.
_MAX_BLOCK = 256

# Any finite float32 is a valid observation; an infinite bound would make the checkers warn.
_OBS_HIGH = np.finfo(np.float32).max


def _make_objective(
    objective: str | Objective,
    latency_weight: float,
    kappa: float,
    tx_power: float,
    rx_power: float,
) -> Objective:
    if isinstance(objective, Objective):
        return objective
    if not isinstance(objective, str):
        raise TypeError(f"objective must be a name or an Objective; got {objective!r}")
    return Objective(objective, latency_weight, kappa, tx_power, rx_power)


@dataclass(frozen=True)
class _Block:
    """A batch of tasks with everything an episode on one of them looks up."""

    tasks: TaskBatch
    features: np.ndarray  # (B, 2n + 5) float32
    steps: np.ndarray  # (B, n, 3, 3) the objective's step costs
    # (B, 3, n, 3, 3): the objective's, latency's and energy's step costs, looked up together
    measures: np.ndarray
    best: np.ndarray  # (B, n) optimal decisions
    best_cost: np.ndarray
    best_latency: np.ndarray

    @classmethod
    def build(cls, tasks: TaskBatch, objective: Objective) -> _Block:
        steps = step_costs(tasks, objective)
        latency_steps = steps if objective.name == "latency" else step_costs(tasks, "latency")
        energy_objective = replace(objective, name="energy")
        best = solvers.optimal(tasks, objective)
        return cls(
            tasks=tasks,
            features=features(tasks),
            steps=steps,
            measures=np.stack([steps, latency_steps, step_costs(tasks, energy_objective)], axis=1),
            best=best.astype(np.int64),
            best_cost=path_cost(steps, best),
            best_latency=path_cost(latency_steps, best),
        )


class _OffloadBase(gym.Env):
    """Task sampling, validation and the final info shared by both environments."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        n_subtasks: int = 6,
        scenario: str | Scenario = "paper",
        objective: str | Objective = "latency",
        latency_weight: float = 0.5,
        kappa: float = 1e-27,
        tx_power: float = 0.5,
        rx_power: float = 0.1,
        task_pool: TaskBatch | None = None,
        render_mode: str | None = None,
    ) -> None:
        if (
            isinstance(n_subtasks, bool)
            or not isinstance(n_subtasks, (int, np.integer))
            or n_subtasks < 1
        ):
            raise ValueError(f"n_subtasks must be an integer >= 1; got {n_subtasks!r}")
        if render_mode is not None:
            raise ValueError(
                f"render_mode must be None (this env does not render); got {render_mode!r}"
            )
        self.n_subtasks = int(n_subtasks)
        self.scenario = as_scenario(scenario)
        self.objective = _make_objective(objective, latency_weight, kappa, tx_power, rx_power)
        if task_pool is not None:
            if not isinstance(task_pool, TaskBatch) or len(task_pool) == 0:
                raise ValueError(f"task_pool must be a non-empty TaskBatch; got {task_pool!r}")
            if task_pool.n_subtasks != self.n_subtasks:
                raise ValueError(
                    f"task_pool has {task_pool.n_subtasks} subtasks; this env has n_subtasks={self.n_subtasks}"
                )
        self.task_pool = task_pool
        self.render_mode = render_mode
        self._sampled: _Block | None = None  # tasks drawn ahead from np_random
        self._sampled_used = 0
        self._block: _Block | None = None  # the block holding this episode's task
        self._index = 0
        self._subtasks = np.arange(self.n_subtasks)

    def _start_episode(self, seed: int | None, options: dict[str, Any] | None) -> None:
        """Choose this episode's task: the next sampled one, or the one in ``options``."""
        options = options or {}
        unknown = sorted(set(options) - {"state"})
        if unknown:
            raise ValueError(f"reset options may hold only 'state'; got {unknown}")
        if seed is not None:
            self._sampled = None  # a new seed starts a new stream of tasks
        if "state" in options:
            self._block, self._index = (
                _Block.build(self._given_task(options["state"]), self.objective),
                0,
            )
            return
        if self._sampled is None or self._sampled_used == len(self._sampled.tasks):
            size = 1 if self._sampled is None else min(2 * len(self._sampled.tasks), _MAX_BLOCK)
            if self.task_pool is None:
                tasks = self.scenario.sample(size, self.n_subtasks, rng=self.np_random)
            else:
                tasks = self.task_pool[self.np_random.integers(len(self.task_pool), size=size)]
            self._sampled, self._sampled_used = _Block.build(tasks, self.objective), 0
        self._block, self._index = self._sampled, self._sampled_used
        self._sampled_used += 1

    def _given_task(self, state: Any) -> TaskBatch:
        if isinstance(state, TaskBatch):
            if len(state) != 1:
                raise ValueError(
                    f"options['state'] must hold one task; got a TaskBatch of {len(state)}"
                )
            task = state
        else:
            task = TaskBatch.from_state(state)
        if task.n_subtasks != self.n_subtasks:
            raise ValueError(
                f"options['state'] has {task.n_subtasks} subtasks; this env has n_subtasks={self.n_subtasks}"
            )
        return task

    def _final_info(self, decision: np.ndarray) -> dict[str, Any]:
        """What an episode's end reports: its costs and the exact optimum's."""
        block, i = self._block, self._index
        previous = np.zeros_like(decision)
        previous[1:] = decision[:-1]
        links = block.measures[i][:, self._subtasks, previous, decision]
        total_cost, total_latency, total_energy = links.sum(axis=1).tolist()
        return {
            "latency": total_latency,
            "energy": total_energy,
            "cost": total_cost,
            "decision": decision.copy(),
            "optimal_cost": float(block.best_cost[i]),
            "optimal_latency": float(block.best_latency[i]),
            "optimal_decision": block.best[i].copy(),
        }

    @property
    def task(self) -> TaskBatch:
        """The current episode's requirement, as a batch of one."""
        if self._block is None:
            raise RuntimeError("no task yet: call reset() first")
        return self._block.tasks[self._index]


class MecOffloadEnv(_OffloadBase):
    """
    ## Description

    Offload a chain of `n` subtasks (the paper's task A) from a mobile end
    device, one subtask per step: run it on the device, send it to the edge
    server, or on through the edge to the cloud. The requirement S = (E, D, p1,
    p2, b1, b2) of "Knowledge Distillation for Mobile Edge Computation
    Offloading" (Chen, Zeng, Yu, Chen) is drawn at reset. Data flows along the
    chain: subtask `t` receives `data[t]` bytes from subtask `t - 1` (the device
    holds the task's input) and the output `data[n]` returns to the device.

    ## Action Space

    `Discrete(3)`: the place of the current subtask.

    | Num | Place |
    |-----|-------|
    | 0 | end device (runs at p1) |
    | 1 | edge server (runs at p2) |
    | 2 | cloud (execution free by default; traffic to it passes through the edge) |

    An action outside the space raises `ValueError`.

    ## Observation Space

    `Box(0, float32 max, (3n + 8,), float32)`; for the paper's n = 6 it has 26 entries.

    | Index | Observation | Unit | Paper range (Sec. 5.1) |
    |-------|-------------|------|------------------------|
    | 0 .. n-1 | `cycles[t]`, CPU cycles of each subtask | Gcycles | 0 - 2 |
    | n .. 2n | `data[t]`, input, intermediate and output data | MB | 0 - 10 |
    | 2n+1 | `device_hz` p1 | GHz | 0.1 - 1 |
    | 2n+2 | `edge_hz` p2 | GHz | 0.5 - 5 |
    | 2n+3 | `edge_bandwidth` b1, device <-> edge | MB/s | 0.01 - 2 |
    | 2n+4 | `cloud_bandwidth` b2, edge <-> cloud | MB/s | 0.01 - 3 |
    | 2n+5 .. 3n+4 | one-hot index of the current subtask (all zero once done) | - | {0, 1} |
    | 3n+5 .. 3n+7 | one-hot place of the previous subtask (the device at the start) | - | {0, 1} |

    ## Rewards

    Minus the cost the step adds: the transfer of the subtask's input from the
    previous place, plus its execution, plus, at the last step, the return of
    the output to the device. The episode's return is exactly minus the task's
    cost (latency in seconds by default).

    ## Starting State

    A requirement drawn uniformly from the scenario's ranges (`"paper"` by
    default), or the one given by `reset(options={"state": {...}})` with the
    field names `cycles`, `data`, `device_hz`, `edge_hz`, `edge_bandwidth`,
    `cloud_bandwidth` and optionally `cloud_hz`, in SI units (cycles, bytes, Hz,
    bytes/s).

    ## Episode End

    Terminated after the n-th step; never truncated. The final step's `info`
    holds `latency` (s), `energy` (J), `cost`, `decision`, and the exact
    optimum's `optimal_cost`, `optimal_latency` and `optimal_decision` (dynamic
    programming), so a normalised latency is `info["latency"] /
    info["optimal_latency"]`. Stepping a finished episode raises `RuntimeError`.

    ## Arguments

    ```python
    import gymnasium as gym
    import gym_mecoffload

    env = gym.make("MecOffload-v0", n_subtasks=6, scenario="paper", objective="latency")
    ```

    * `n_subtasks`: subtasks per task (default 6, as in the paper).
    * `scenario`: `"paper"` (Sec. 5.1), `"paper-kd"` (Sec. 5.2) or a `Scenario`.
    * `objective`: `"latency"` (default), `"energy"` or `"weighted"`, or an `Objective`.
    * `latency_weight`: w of `w * latency + (1 - w) * energy` for `"weighted"`.
    * `kappa`, `tx_power`, `rx_power`: the energy model's constants (J/(cycle Hz^2), W, W).
    * `task_pool`: a `TaskBatch` to draw tasks from uniformly (with replacement)
      instead of the scenario, e.g. to train on a fixed training set.

    ## Version History

    * v0: initial version.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        n = self.n_subtasks
        self._n_task_features = n_features(n)
        self.observation_space = spaces.Box(
            0.0, _OBS_HIGH, shape=(self._n_task_features + n + N_PLACES,), dtype=np.float32
        )
        self.action_space = spaces.Discrete(N_PLACES)
        self._step_index = n  # no episode running until reset

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._start_episode(seed, options)
        # Python lists: per-step lookups on them are far cheaper than on numpy scalars.
        self._steps = self._block.steps[self._index].tolist()
        self._observation = np.zeros(self.observation_space.shape, dtype=np.float32)
        self._observation[: self._n_task_features] = self._block.features[self._index]
        self._decision = np.zeros(self.n_subtasks, dtype=np.int64)
        self._step_index = 0
        self._previous = DEVICE
        return self._observe(), {}

    def _observe(self) -> np.ndarray:
        observation = self._observation.copy()
        if self._step_index < self.n_subtasks:
            observation[self._n_task_features + self._step_index] = 1.0
        observation[self._n_task_features + self.n_subtasks + self._previous] = 1.0
        return observation

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._step_index >= self.n_subtasks:
            raise RuntimeError("the episode is over (or never began): call reset() before step()")
        place = _check_place(action)
        t = self._step_index
        step_cost = self._steps[t][self._previous][place]
        self._decision[t] = place
        self._previous = place
        self._step_index += 1
        terminated = self._step_index == self.n_subtasks
        info = self._final_info(self._decision) if terminated else {}
        return self._observe(), -step_cost, terminated, False, info


def sequential_observations(
    task_features: np.ndarray, step: np.ndarray | int, previous_place: np.ndarray | int
) -> np.ndarray:
    """``MecOffload-v0`` observations for a batch, shape (N, 3n + 8) float32.

    ``task_features`` (N, 2n + 5) are the tasks' S (:func:`~gym_mecoffload.model.features`);
    ``step`` and ``previous_place`` (scalars or (N,)) give the current subtask and
    where the one before it runs. The env builds the same vector one step at a time.
    """
    task_features = np.asarray(task_features, dtype=np.float32)
    size, width = task_features.shape
    n = (width - 5) // 2
    observations = np.zeros((size, width + n + N_PLACES), dtype=np.float32)
    observations[:, :width] = task_features
    rows = np.arange(size)
    observations[rows, width + np.broadcast_to(step, (size,))] = 1.0
    observations[rows, width + n + np.broadcast_to(previous_place, (size,))] = 1.0
    return observations


def _check_place(action: Any) -> int:
    # The common case, a Python or numpy integer scalar, checked cheaply.
    if (
        isinstance(action, (int, np.integer))
        and not isinstance(action, bool)
        and 0 <= action < N_PLACES
    ):
        return int(action)
    value = np.asarray(action)
    if value.shape != () or not np.issubdtype(value.dtype, np.integer) or not 0 <= value < N_PLACES:
        raise ValueError(
            f"action must be an integer place 0 (device), 1 (edge) or 2 (cloud); got {action!r}"
        )
    return int(value)


class MecOffloadOneShotEnv(_OffloadBase):
    """
    ## Description

    The paper's multi-label view of the same problem (its Sec. 3.3): one step
    decides the place of every subtask at once. Same model, scenarios and
    arguments as `MecOffload-v0`.

    ## Action Space

    `MultiDiscrete([3] * n)`: the place of each subtask (0 device, 1 edge,
    2 cloud). `JointActionWrapper` turns it into `Discrete(3**n)`, one action per
    whole decision, the paper's DRL formulation. An action outside the space
    raises `ValueError`.

    ## Observation Space

    `Box(0, float32 max, (2n + 5,), float32)`: the first 2n + 5 entries of
    `MecOffload-v0`'s observation (cycles in Gcycles, data in MB, p1 and p2 in
    GHz, b1 and b2 in MB/s); 17 entries for n = 6, the paper's input.

    ## Rewards

    Minus the decision's cost (latency in seconds by default).

    ## Starting State

    As `MecOffload-v0`, including `reset(options={"state": {...}})`.

    ## Episode End

    Terminated after the single step, never truncated; `info` holds the same
    keys as `MecOffload-v0`'s final step.

    ## Arguments

    ```python
    import gymnasium as gym
    import gym_mecoffload

    env = gym.make("MecOffloadOneShot-v0", n_subtasks=6, scenario="paper")
    ```

    ## Version History

    * v0: initial version.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.observation_space = spaces.Box(
            0.0, _OBS_HIGH, shape=(n_features(self.n_subtasks),), dtype=np.float32
        )
        self.action_space = spaces.MultiDiscrete([N_PLACES] * self.n_subtasks)
        self._done = True

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._start_episode(seed, options)
        self._done = False
        return self._block.features[self._index].copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("the episode is over (or never began): call reset() before step()")
        decision = np.asarray(action)
        if (
            decision.shape != (self.n_subtasks,)
            or not np.issubdtype(decision.dtype, np.integer)
            or ((decision < 0) | (decision >= N_PLACES)).any()
        ):
            raise ValueError(
                f"action must be {self.n_subtasks} integer places in {{0, 1, 2}} "
                f"(device, edge, cloud); got {action!r}"
            )
        self._done = True
        info = self._final_info(decision.astype(np.int64))
        return self._block.features[self._index].copy(), -info["cost"], True, False, info


class JointActionWrapper(gym.ActionWrapper):
    """`Discrete(3**n)` actions for `MecOffloadOneShot-v0`: one action per whole decision.

    The paper's DRL formulation. Action ``a`` is the decision whose base-3 digits,
    most significant first, are the places of subtasks 0 .. n - 1.
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = env.action_space
        if not (
            isinstance(space, spaces.MultiDiscrete) and (np.asarray(space.nvec) == N_PLACES).all()
        ):
            raise ValueError(
                f"JointActionWrapper needs a MultiDiscrete([3] * n) action space; got {space}"
            )
        self.n_subtasks = len(space.nvec)
        self.action_space = spaces.Discrete(N_PLACES**self.n_subtasks)

    def action(self, action: Any) -> np.ndarray:
        value = np.asarray(action)
        if (
            value.shape != ()
            or not np.issubdtype(value.dtype, np.integer)
            or not 0 <= value < self.action_space.n
        ):
            raise ValueError(
                f"action must be an integer in [0, {self.action_space.n - 1}]; got {action!r}"
            )
        return decode_joint_actions(value[None], self.n_subtasks)[0]


def decode_joint_actions(actions: np.ndarray, n_subtasks: int) -> np.ndarray:
    """Joint actions (N,) to decisions (N, n): base-3 digits, most significant first."""
    powers = N_PLACES ** np.arange(n_subtasks - 1, -1, -1)
    return (np.asarray(actions)[:, None] // powers) % N_PLACES


def encode_joint_actions(decisions: np.ndarray) -> np.ndarray:
    """Decisions (N, n) to joint actions (N,): the inverse of :func:`decode_joint_actions`."""
    decisions = np.asarray(decisions, dtype=np.int64)
    powers = N_PLACES ** np.arange(decisions.shape[1] - 1, -1, -1)
    return decisions @ powers
