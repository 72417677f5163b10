"""The offloading environments: one subtask per step, or the whole decision at once."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from gym_mecoffload.chain.episodes import EnvSettings, TaskBlock, final_info_one
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.chain.observations import SequentialLayout, n_features
from gym_mecoffload.chain.rendering import render_ansi, render_rgb
from gym_mecoffload.channels.processes import Channel
from gym_mecoffload.core.checks import holds_integers_below
from gym_mecoffload.core.episodes import RENDER_FPS, RENDER_MODES, RewardMode, check_render_mode
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.core.topology import DEVICE, N_PLACES

# After a seeded reset, tasks are drawn in blocks of 1, 2, 4, ... up to this many, so
# that resets are cheap whether an env is reseeded every episode or never.
_MAX_BLOCK = 256

# Any finite float32 is a valid observation; an infinite bound would make the checkers warn.
OBS_HIGH = np.finfo(np.float32).max


class _OffloadBase(gym.Env):
    """Task sampling, validation, rewards, rendering and the final info of both environments."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(
        self,
        n_subtasks: int = 6,
        *,
        scenario: str | Scenario = "paper",
        objective: str | Objective = "latency",
        latency_weight: float = 0.5,
        kappa: float = 1e-27,
        tx_power: float = 0.5,
        rx_power: float = 0.1,
        task_pool: TaskBatch | None = None,
        reward_mode: RewardMode = "absolute",
        channel: str | Channel = "static",
        outage_probability: float = 0.0,
        render_mode: str | None = None,
    ) -> None:
        """See the class docstring for every argument."""
        self.settings = EnvSettings.from_arguments(locals())
        self.render_mode = check_render_mode(render_mode)
        self.n_subtasks = self.settings.n_subtasks
        self.scenario = self.settings.scenario
        self.objective = self.settings.objective
        self.task_pool = self.settings.task_pool
        self.reward_mode = self.settings.reward_mode
        self.channel = self.settings.channel
        self._fixed = self.channel.fixed  # the paper's channel: no slot to show
        self._sampled: TaskBlock | None = None  # tasks drawn ahead from np_random
        self._sampled_used = 0
        self._block: TaskBlock | None = None  # the block holding this episode's task
        self._index = 0
        self._decision = np.zeros(self.n_subtasks, dtype=np.int64)
        self._placed = 0  # subtasks placed so far this episode
        self._make_spaces()

    def _make_spaces(self) -> None:
        """Set the observation and action spaces and the state before the first reset."""
        raise NotImplementedError

    def _start_episode(self, seed: int | None, options: dict[str, Any] | None) -> None:
        """Choose this episode's task: the next sampled one, or the one in ``options``."""
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise TypeError(f"reset options must be a dict or None; got {type(options).__name__}")
        unknown = sorted(set(options) - {"state", "slots"}, key=str)
        if unknown or ("slots" in options and "state" not in options):
            raise ValueError(
                "reset options may hold only 'state' and, with it, 'slots'; got "
                f"{sorted(options, key=str)}"
            )
        if seed is not None:
            self._sampled = None  # a new seed starts a new stream of tasks
        self._placed = 0
        if "state" in options:
            self._block = TaskBlock.given(options, self.settings, self.np_random)
            self._index = 0
            return
        if self._sampled is None or self._sampled_used == len(self._sampled.tasks):
            size = 1 if self._sampled is None else min(2 * len(self._sampled.tasks), _MAX_BLOCK)
            tasks = self.settings.sample(size, self.np_random)
            self._sampled, self._sampled_used = (
                TaskBlock.draw(tasks, self.settings, self.np_random),
                0,
            )
        self._block, self._index = self._sampled, self._sampled_used
        self._sampled_used += 1

    def _reward(self, step_cost: float) -> float:
        if self.reward_mode == "relative":
            return -(step_cost / float(self._block.best_cost[self._index]))
        return -step_cost

    def _final_info(self, totals: list[float]) -> dict[str, Any]:
        """What an episode's end reports: its costs and the exact optimum's."""
        return final_info_one(self._block, self._index, self._decision, totals)

    @property
    def task(self) -> TaskBatch:
        """The current episode's requirement, as a batch of one."""
        if self._block is None:
            raise RuntimeError("no task yet: call reset() first")
        return self._block.tasks[self._index]

    def render(self) -> str | np.ndarray | None:
        """The episode so far beside the optimum: a text table (``"ansi"``) or a timeline picture
        (``"rgb_array"``, (256, 640, 3) uint8); see :mod:`gym_mecoffload.envs.rendering`."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() was called without a render_mode; pass render_mode='ansi' or "
                f"'rgb_array' to gym.make({self.spec.id if self.spec else 'MecOffload-v0'!r}, ...)"
            )
            return None
        if self._block is None:
            raise RuntimeError("nothing to render yet: call reset() first")
        places = self._decision[: self._placed]
        optimum = self._block.best[self._index]
        slots = None if self._fixed else self._block.slots[self._index]
        if self.render_mode == "ansi":
            title = f"{type(self).__name__}, {self.objective.name} objective"
            return render_ansi(self.task, places, optimum, title, slots)
        return render_rgb(self.task, places, optimum, slots)


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

    Under a fluctuating channel (`channel=`), b1 and b2 are the current slot's:
    the bandwidths the current subtask's input will cross (SPEC-CHANNELS).

    ## Rewards

    Minus the cost the step adds: the transfer of the subtask's input from the
    previous place, plus its execution, plus, at the last step, the return of
    the output to the device. The episode's return is exactly minus the task's
    cost (latency in seconds by default).

    With `reward_mode="relative"` every reward is divided by the task's optimal
    cost, so the return is minus the normalised cost: -1 at the optimum, about
    -1.4 for Greedy, whatever the scenario's units. Recommended for PPO and
    DQN, whose value targets then have the same scale on every scenario.

    ## Starting State

    A requirement drawn uniformly from the scenario's ranges (`"paper"` by
    default), or the one given by `reset(options={"state": {...}})` with the
    field names `cycles`, `data`, `device_hz`, `edge_hz`, `edge_bandwidth`,
    `cloud_bandwidth` and optionally `cloud_hz`, in SI units (cycles, bytes, Hz,
    bytes/s). Under a fluctuating or unreliable channel the episode's slots are
    drawn at reset from the env's `np_random`; `options={"state": ..., "slots":
    Slots(...)}` replays given ones (the task then shows slot 0's bandwidths).

    ## Episode End

    Terminated after the n-th step; never truncated. The final step's `info`
    holds `latency` (s), `energy` (J), `cost`, `decision`, and the exact
    optimum's `optimal_cost`, `optimal_latency` and `optimal_decision` (dynamic
    programming), so a normalised latency is `info["latency"] /
    info["optimal_latency"]`. It also holds the channel's realised
    `edge_bandwidths`, `cloud_bandwidths` (bytes/s) and `attempts` (n + 1 slots
    each), and what the channel's MDP expert does on this episode, `mdp_cost` and
    `mdp_decision`. Under a fluctuating channel `optimal_*` are the clairvoyant's
    (hindsight) optimum, which no policy can reach in expectation. Stepping a
    finished episode raises `RuntimeError`.

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
    * `reward_mode`: `"absolute"` (default: minus the cost) or `"relative"`
      (minus the cost over the task's optimal cost).
    * `channel`: how b1 and b2 change from one transfer slot to the next (SPEC-CHANNELS):
      `"static"` (default, the paper's: the task's bandwidths throughout), `"iid"`,
      `"markov"`, `"rayleigh"`, or a configured `MarkovChannel` / `RayleighChannel`
      from `gym_mecoffload.channels`.
    * `outage_probability`: q in [0, 0.999]: each transfer attempt between two places
      fails with probability q and is repeated in full (default 0).
    * `render_mode`: `None`, `"ansi"` (a text table of the task so far: each
      subtask's place, transfer and execution seconds, the running latency,
      and the optimum's places and running latency) or `"rgb_array"` (a
      256 x 640 timeline, one lane per place, the agent above the optimum).
      `gym.make(..., render_mode="human")` shows the frames in a window when
      pygame is installed.

    `MecOffloadVectorEnv` runs N of these at once in numpy with the same
    arguments: `gym.make_vec("MecOffload-v0", num_envs=N)` on gymnasium 1.x.

    ## Version History

    * v0: initial version; rendering, `reward_mode` and the vector env added
      without changing the default behaviour.
    """

    def _make_spaces(self) -> None:
        self.layout = SequentialLayout(self.n_subtasks)
        self.observation_space = spaces.Box(
            0.0, OBS_HIGH, shape=(self.layout.size,), dtype=np.float32
        )
        self.action_space = spaces.Discrete(N_PLACES)
        self._placed = self.n_subtasks  # no episode running until reset

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._start_episode(seed, options)
        # This task's links [t][prev][p] (objective, latency, energy) as Python lists:
        # per-step lookups on them are far cheaper than on numpy scalars.
        measures = self._block.measures[..., self._index].tolist()
        self._links, self._latency_links, self._energy_links = measures
        self._totals = [0.0, 0.0, 0.0]  # the episode's objective, latency and energy so far
        self._observation = self.layout.first(self._block.features[self._index])
        self._previous = DEVICE
        # Under a fluctuating channel each step shows the next slot's bandwidths.
        self._slot_features = None if self._fixed else self._block.slot_features[self._index]
        return self._observation.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._placed >= self.n_subtasks:
            raise RuntimeError("the episode is over (or never began): call reset() before step()")
        place = _check_place(action)
        t, previous = self._placed, self._previous
        step_cost = self._links[t][previous][place]
        totals = self._totals
        totals[0] += step_cost
        totals[1] += self._latency_links[t][previous][place]
        totals[2] += self._energy_links[t][previous][place]
        if self._slot_features is None:  # the paper's channel: the bandwidths stay
            self.layout.advance(self._observation, t, previous, place)
        else:
            self.layout.advance(self._observation, t, previous, place, self._slot_features[t + 1])
        self._decision[t] = place
        self._previous = place
        self._placed += 1
        terminated = self._placed == self.n_subtasks
        info = self._final_info(totals) if terminated else {}
        return self._observation.copy(), self._reward(step_cost), terminated, False, info


def _check_place(action: Any) -> int:
    # The common case, a Python or numpy integer scalar, checked cheaply.
    if (
        isinstance(action, (int, np.integer))
        and not isinstance(action, bool)
        and 0 <= action < N_PLACES
    ):
        return int(action)
    value = np.asarray(action)
    if value.shape != () or not holds_integers_below(value, N_PLACES):
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

    Minus the decision's cost (latency in seconds by default); over the
    optimal cost with `reward_mode="relative"`.

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

    The arguments are `MecOffload-v0`'s, rendering included.

    ## Version History

    * v0: initial version; rendering, `reward_mode` and the vector env added
      without changing the default behaviour.
    """

    def _make_spaces(self) -> None:
        self.observation_space = spaces.Box(
            0.0, OBS_HIGH, shape=(n_features(self.n_subtasks),), dtype=np.float32
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
        if decision.shape != (self.n_subtasks,) or not holds_integers_below(decision, N_PLACES):
            raise ValueError(
                f"action must be {self.n_subtasks} integer places in {{0, 1, 2}} "
                f"(device, edge, cloud); got {action!r}"
            )
        self._done = True
        self._decision = decision.astype(np.int64)
        self._placed = self.n_subtasks
        # left_fold's order (the sequential env's), in plain Python: several times faster
        # for one task than the block's numpy path.
        totals, previous = [0.0, 0.0, 0.0], DEVICE
        measures = self._block.measures[..., self._index].tolist()
        for t, place in enumerate(self._decision.tolist()):
            for m, links in enumerate(measures):
                totals[m] += links[t][previous][place]
            previous = place
        info = self._final_info(totals)
        return (
            self._block.features[self._index].copy(),
            self._reward(info["cost"]),
            True,
            False,
            info,
        )
