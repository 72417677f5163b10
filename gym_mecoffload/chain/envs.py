"""The chain envs: ``MecOffload-v0`` (one subtask per step) and ``MecOffloadOneShot-v0``
(the whole decision at once), each with its native vector env.

The classes hold the manuals and keyword arguments; the episodes are the chain's
(:mod:`gym_mecoffload.chain.episodes`) and the env plumbing is the core's one pair of
adapters (:mod:`gym_mecoffload.core.envs`). Given the same task, a vector sub-env's
episode is the single env's, step for step (tested): same observations, rewards and
final info.
"""

from __future__ import annotations

from typing import Any

from gym_mecoffload.chain.episodes import ChainSource
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.chain.observations import SequentialLayout
from gym_mecoffload.chain.settings import EnvSettings
from gym_mecoffload.channels.processes import Channel, ChannelModel
from gym_mecoffload.core.envs import EpisodesEnv, EpisodesVectorEnv
from gym_mecoffload.core.episodes import RewardMode
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.objective import KAPPA, LATENCY_WEIGHT, RX_POWER, TX_POWER, Objective
from gym_mecoffload.core.scenario import Scenario


class _ChainViews:
    """What the chain's single and vector envs show of their settings and episodes."""

    source: ChainSource

    @property
    def settings(self) -> EnvSettings:
        return self.source.settings

    @property
    def n_subtasks(self) -> int:
        return self.source.settings.n_subtasks

    @property
    def scenario(self) -> Scenario:
        return self.source.settings.scenario

    @property
    def objective(self) -> Objective:
        return self.source.settings.objective

    @property
    def task_pool(self) -> TaskBatch | None:
        return self.source.settings.task_pool

    @property
    def reward_mode(self) -> RewardMode:
        return self.source.settings.reward_mode

    @property
    def channel(self) -> ChannelModel:
        return self.source.settings.channel

    @property
    def layout(self) -> SequentialLayout | None:
        """``MecOffload-v0``'s observation layout (None for the one-shot view)."""
        return self.source.layout

    def _current(self) -> Any:
        if self._episodes is None:
            raise RuntimeError("no task yet: call reset() first")
        return self._episodes


class _ChainEnv(_ChainViews, EpisodesEnv):
    sequential = True

    def __init__(
        self,
        n_subtasks: int = 6,
        *,
        scenario: str | Scenario = "paper",
        objective: str | Objective = "latency",
        latency_weight: float = LATENCY_WEIGHT,
        kappa: float = KAPPA,
        tx_power: float = TX_POWER,
        rx_power: float = RX_POWER,
        task_pool: TaskBatch | None = None,
        reward_mode: RewardMode = "absolute",
        channel: str | Channel = "static",
        outage_probability: float = 0.0,
        render_mode: str | None = None,
    ) -> None:
        """See the class docstring for every argument."""
        settings = EnvSettings.validate(
            n_subtasks=n_subtasks,
            scenario=scenario,
            objective=objective,
            latency_weight=latency_weight,
            kappa=kappa,
            tx_power=tx_power,
            rx_power=rx_power,
            task_pool=task_pool,
            reward_mode=reward_mode,
            channel=channel,
            outage_probability=outage_probability,
        )
        source = ChainSource(settings, sequential=self.sequential, vector=False)
        super().__init__(source, render_mode)

    @property
    def task(self) -> TaskBatch:
        """The current episode's requirement, as a batch of one."""
        return self._current().tasks

    @property
    def slots(self) -> Slots:
        """The current episode's realised channel, as a batch of one."""
        return self._current().slots


class MecOffloadEnv(_ChainEnv):
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


class MecOffloadOneShotEnv(_ChainEnv):
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

    sequential = False


class _ChainVectorEnv(_ChainViews, EpisodesVectorEnv):
    sequential = True

    def __init__(
        self,
        num_envs: int = 1,
        n_subtasks: int = 6,
        *,
        scenario: str | Scenario = "paper",
        objective: str | Objective = "latency",
        latency_weight: float = LATENCY_WEIGHT,
        kappa: float = KAPPA,
        tx_power: float = TX_POWER,
        rx_power: float = RX_POWER,
        task_pool: TaskBatch | None = None,
        reward_mode: RewardMode = "absolute",
        channel: str | Channel = "static",
        outage_probability: float = 0.0,
        render_mode: str | None = None,
        autoreset_mode: str | None = None,
    ) -> None:
        """``num_envs`` sub-envs; every other argument as the single env's (see its docstring).

        ``autoreset_mode``: ``"next_step"`` (default on gymnasium 1.x) or
        ``"same_step"`` (default on 0.29: ``final_observation`` / ``final_info``), or
        gymnasium's ``AutoresetMode`` value.
        """
        settings = EnvSettings.validate(
            n_subtasks=n_subtasks,
            scenario=scenario,
            objective=objective,
            latency_weight=latency_weight,
            kappa=kappa,
            tx_power=tx_power,
            rx_power=rx_power,
            task_pool=task_pool,
            reward_mode=reward_mode,
            channel=channel,
            outage_probability=outage_probability,
        )
        source = ChainSource(settings, sequential=self.sequential, vector=True)
        super().__init__(source, num_envs, render_mode, autoreset_mode)

    @property
    def tasks(self) -> TaskBatch:
        """The sub-envs' current requirements, one task each.

        ``reset(options={"state": ...})`` gives them: one task (a mapping in SI units or
        a TaskBatch of one) for every sub-env, or a TaskBatch of ``num_envs`` tasks.
        """
        return self._current().tasks

    @property
    def slots(self) -> Slots:
        """The sub-envs' realised channels, one task each (``options["slots"]`` replays them)."""
        return self._current().slots


class MecOffloadVectorEnv(_ChainVectorEnv):
    """``num_envs`` copies of ``MecOffload-v0`` (one subtask per step), stepped in numpy.

    Observations (N, 3n + 8) float32, actions (N,) places, rewards (N,) float64:
    each sub-env as ``MecOffloadEnv`` with the same arguments. Make it with
    ``gym.make_vec("MecOffload-v0", num_envs=N)`` (gymnasium 1.x) or directly,
    ``MecOffloadVectorEnv(num_envs=N, ...)`` (0.29 too).
    """


class MecOffloadOneShotVectorEnv(_ChainVectorEnv):
    """``num_envs`` copies of ``MecOffloadOneShot-v0`` (the whole decision in one step).

    Observations (N, 2n + 5) float32, actions (N, n) places; each sub-env as
    ``MecOffloadOneShotEnv`` with the same arguments.
    """

    sequential = False
