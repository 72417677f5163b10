"""Native vector environments: N offloading episodes stepped at once in numpy.

Every episode of ``MecOffload-v0`` lasts exactly n steps and every sub-env
resets together, so the sub-envs run in lockstep: the subtask index is one
number, a step is a handful of array operations over the N sub-envs, and an
autoreset draws N fresh tasks, with their exact optimum, in one vectorised
block. Given the same task, a sub-env's episode is the single env's, step for
step (tested): same observations, rewards and final info.

Autoreset follows the installed gymnasium line: on 1.x, the next ``step``
after the last one resets every sub-env and ignores its actions
(``AutoresetMode.NEXT_STEP``, Gymnasium's default); on 0.29, the last step
returns the new episodes' observations and puts the finished ones in
``info["final_observation"]`` and ``info["final_info"]``. ``autoreset_mode``
chooses the other.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from gym_mecoffload.chain.envs import OBS_HIGH
from gym_mecoffload.chain.episodes import EnvSettings, TaskBlock
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.chain.observations import SequentialLayout, n_features
from gym_mecoffload.chain.rendering import render_ansi, render_rgb
from gym_mecoffload.channels.processes import Channel
from gym_mecoffload.core.checks import check_count, holds_integers_below
from gym_mecoffload.core.envs import AUTORESET_MODES, GYMNASIUM_1, autoreset_metadata
from gym_mecoffload.core.episodes import RENDER_FPS, RENDER_MODES, RewardMode, check_render_mode
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.core.topology import DEVICE, N_PLACES

# Tasks per block after a seeded reset grow 1, 2, 4, ... episodes' worth, up to
# about this many tasks, so that small and large N both amortise the block's cost.
_MAX_BLOCK_TASKS = 4096


class _VectorBase(gym.vector.VectorEnv):
    """Sampling, lockstep autoreset, infos and rendering shared by both vector envs."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(
        self,
        num_envs: int = 1,
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
        autoreset_mode: str | None = None,
    ) -> None:
        """``num_envs`` sub-envs; every other argument as the single env's (see its docstring).

        ``autoreset_mode``: ``"next_step"`` (default on gymnasium 1.x) or
        ``"same_step"`` (default on 0.29: ``final_observation`` / ``final_info``).
        """
        if autoreset_mode is None:
            autoreset_mode = "next_step" if GYMNASIUM_1 else "same_step"
        if autoreset_mode not in AUTORESET_MODES:
            raise ValueError(
                f"autoreset_mode must be one of {AUTORESET_MODES} or None; got {autoreset_mode!r}"
            )
        self.settings = EnvSettings.from_arguments(locals())
        self.render_mode = check_render_mode(render_mode)
        self.autoreset_mode = autoreset_mode
        self.metadata = {**type(self).metadata, **autoreset_metadata(autoreset_mode)}
        self.num_envs = check_count("num_envs", num_envs, 1)
        self.n_subtasks = self.settings.n_subtasks
        self.reward_mode = self.settings.reward_mode
        self.is_vector_env = True  # gymnasium 0.29's VectorEnv sets these two
        self.viewer = None
        self.closed = False
        self.single_observation_space, self.single_action_space = self._single_spaces()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._np_random: np.random.Generator | None = None
        self._np_random_seed: int | None = None
        self._sampled: TaskBlock | None = None  # tasks drawn ahead
        self._sampled_used = 0
        self._block: TaskBlock | None = None
        self._slice = slice(0, self.num_envs)  # this episode's tasks in the block
        self._decision = np.zeros((self.num_envs, self.n_subtasks), dtype=np.int64)
        self._placed = 0
        self._pending_reset = False  # next-step autoreset: the last step ended every episode

    def _single_spaces(self) -> tuple[spaces.Space, spaces.Space]:
        raise NotImplementedError

    @property
    def np_random(self) -> np.random.Generator:
        """The generator every sub-env's tasks come from (seeded by ``reset(seed=...)``)."""
        if self._np_random is None:
            self._np_random, self._np_random_seed = seeding.np_random()
        return self._np_random

    @property
    def tasks(self) -> TaskBatch:
        """The sub-envs' current requirements, one task each."""
        if self._block is None:
            raise RuntimeError("no tasks yet: call reset() first")
        return self._block.tasks[self._slice]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every sub-env's episode; ``options={"state": ...}`` gives the tasks.

        ``seed`` (an int) seeds the one generator all sub-envs draw from.
        ``options["state"]`` is one task (a mapping in SI units or a TaskBatch of
        one) for every sub-env, or a TaskBatch of ``num_envs`` tasks, one each.
        """
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
                raise TypeError(
                    "seed must be an int or None (every sub-env draws its tasks from one "
                    f"generator, so one seed serves them all); got {seed!r}"
                )
            self._np_random, self._np_random_seed = seeding.np_random(int(seed))
            self._sampled = None
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise TypeError(f"reset options must be a dict or None; got {type(options).__name__}")
        unknown = sorted(set(options) - {"state", "slots"}, key=str)
        if unknown or ("slots" in options and "state" not in options):
            raise ValueError(
                f"reset options may hold only 'state' and, with it, 'slots'; got "
                f"{sorted(options, key=str)} (every sub-env resets together, since every "
                "episode lasts n steps)"
            )
        if "state" in options:
            block = TaskBlock.given(options, self.settings, self.np_random, self.num_envs)
            self._block, self._slice = block, self._slice_at(0)
        else:
            self._draw()
        self._start()
        return self._observe(), {}

    def _slice_at(self, start: int) -> slice:
        return slice(start, start + self.num_envs)

    def _draw(self) -> None:
        """The next N tasks of the stream, drawing a new block when the last one is used up."""
        sampled = self._sampled
        if sampled is None or self._sampled_used + self.num_envs > len(sampled.tasks):
            episodes = 1 if sampled is None else 2 * len(sampled.tasks) // self.num_envs
            episodes = min(episodes, max(1, _MAX_BLOCK_TASKS // self.num_envs))
            tasks = self.settings.sample(episodes * self.num_envs, self.np_random)
            self._sampled, self._sampled_used = (
                TaskBlock.draw(tasks, self.settings, self.np_random),
                0,
            )
        self._block, self._slice = self._sampled, self._slice_at(self._sampled_used)
        self._sampled_used += self.num_envs

    def _start(self) -> None:
        self._placed = 0
        self._pending_reset = False
        self._best_cost = self._block.best_cost[self._slice]
        self._index = np.arange(self._slice.start, self._slice.stop)  # the tasks in the block

    def _observe(self) -> np.ndarray:
        raise NotImplementedError

    def _rewards(self, costs: np.ndarray) -> np.ndarray:
        if self.reward_mode == "relative":
            return -(costs / self._best_cost)
        return -costs

    def _check_actions(self, actions: Any, shape: tuple[int, ...]) -> np.ndarray:
        array = np.asarray(actions)
        if array.shape != shape or not holds_integers_below(array, N_PLACES):
            raise ValueError(
                f"actions must be an integer array of shape {shape} holding places 0 (device), "
                f"1 (edge) or 2 (cloud); got {actions!r}"
            )
        return array.astype(np.intp, copy=False)

    def _advance(self, actions: Any) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """Apply the actions: the step's costs (N,), and the final infos if the episodes ended."""
        raise NotImplementedError

    def _final_infos(self) -> dict[str, np.ndarray]:
        return self._block.final_infos(self._index, self._decision)

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        falses = np.zeros(self.num_envs, dtype=bool)
        if self.autoreset_mode == "same_step":
            observations, rewards, terminated, final_observations, final = self.step_same_step(
                actions
            )
            info = {} if final is None else self._same_step_info(final_observations, final)
            return observations, rewards, terminated, falses, info
        if self._pending_reset:  # next-step autoreset: these actions are ignored
            self._draw()
            self._start()
            return self._observe(), np.zeros(self.num_envs), falses, falses.copy(), {}
        observations, rewards, final = self._step_now(actions)
        if final is None:
            return observations, rewards, falses, falses.copy(), {}
        self._pending_reset = True
        terminated = np.ones(self.num_envs, dtype=bool)
        masks = {f"_{key}": terminated.copy() for key in final}
        return observations, rewards, terminated, falses, {**final, **masks}

    def step_same_step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, dict[str, np.ndarray] | None]:
        """One step that starts new episodes at once when the current ones end, whatever
        ``autoreset_mode`` is: for adapters to other vector APIs (SB3's).

        Returns the observations (the new episodes' if the step ended them), the
        rewards and ``terminated`` (N,), and when the episodes ended, their last
        observations (N, ...) and final infos as arrays (keys as the single env's).
        """
        if self._pending_reset:
            raise RuntimeError("a next-step autoreset is pending: call step() or reset() first")
        observations, rewards, final = self._step_now(actions)
        if final is None:
            return observations, rewards, np.zeros(self.num_envs, dtype=bool), None, None
        self._draw()
        self._start()
        return self._observe(), rewards, np.ones(self.num_envs, dtype=bool), observations, final

    def _step_now(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        if self._block is None:
            raise RuntimeError("call reset() before step()")
        costs, final = self._advance(actions)
        return self._observe(), self._rewards(costs), final

    def _same_step_info(
        self, observations: np.ndarray, final: dict[str, np.ndarray]
    ) -> dict[str, Any]:
        """The finished episodes in the installed gymnasium line's same-step convention."""
        everyone = np.ones(self.num_envs, dtype=bool)
        final_observations = np.empty(self.num_envs, dtype=object)
        final_observations[:] = list(observations)
        if GYMNASIUM_1:
            masks = {f"_{key}": everyone.copy() for key in final}
            return {
                "final_obs": final_observations,
                "_final_obs": everyone.copy(),
                "final_info": {**final, **masks},
                "_final_info": everyone.copy(),
            }
        final_infos = np.empty(self.num_envs, dtype=object)
        final_infos[:] = self.final_info_dicts(final)
        return {
            "final_observation": final_observations,
            "_final_observation": everyone.copy(),
            "final_info": final_infos,
            "_final_info": everyone.copy(),
        }

    @staticmethod
    def final_info_dicts(final: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        """Batched final infos as one single-env info dict per sub-env (Python floats, arrays)."""
        columns = {
            key: (list(value) if value.ndim == 2 else value.tolist())
            for key, value in final.items()
        }
        return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]

    def render(self) -> tuple[str | np.ndarray, ...] | None:
        """One frame per sub-env, as the single env draws it (see its ``render``)."""
        if self.render_mode is None:
            gym.logger.warn("render() was called without a render_mode ('ansi' or 'rgb_array')")
            return None
        if self._block is None:
            raise RuntimeError("nothing to render yet: call reset() first")
        tasks, best = self.tasks, self._block.best[self._slice]
        frames = []
        for i in range(self.num_envs):
            places = self._decision[i, : self._placed]
            slots = None if self.settings.channel.fixed else self._block.slots[self._index[i]]
            if self.render_mode == "ansi":
                title = f"{type(self).__name__}[{i}], {self.settings.objective.name} objective"
                frames.append(render_ansi(tasks[i], places, best[i], title, slots))
            else:
                frames.append(render_rgb(tasks[i], places, best[i], slots))
        return tuple(frames)

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release: no sub-processes, no windows."""


class MecOffloadVectorEnv(_VectorBase):
    """``num_envs`` copies of ``MecOffload-v0`` (one subtask per step), stepped in numpy.

    Observations (N, 3n + 8) float32, actions (N,) places, rewards (N,) float64:
    each sub-env as ``MecOffloadEnv`` with the same arguments. Make it with
    ``gym.make_vec("MecOffload-v0", num_envs=N)`` (gymnasium 1.x) or directly,
    ``MecOffloadVectorEnv(num_envs=N, ...)`` (0.29 too).
    """

    def _single_spaces(self) -> tuple[spaces.Space, spaces.Space]:
        self.layout = SequentialLayout(self.n_subtasks)
        observation = spaces.Box(0.0, OBS_HIGH, shape=(self.layout.size,), dtype=np.float32)
        return observation, spaces.Discrete(N_PLACES)

    def _start(self) -> None:
        super()._start()
        self._totals = np.zeros((3, self.num_envs))  # objective, latency, energy so far
        self._previous = np.full(self.num_envs, DEVICE, dtype=np.intp)
        self._observation = self.layout.build(self._block.features[self._slice], 0, DEVICE)

    def _observe(self) -> np.ndarray:
        return self._observation.copy()

    def _advance(self, actions: Any) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        places = self._check_actions(actions, (self.num_envs,))
        t = self._placed
        links = self._block.step_links(t, self._index, self._previous, places)  # (3, N)
        self._totals += links  # subtask after subtask, as the single env adds them
        slots = None
        if not self.settings.channel.fixed:  # the next slot's bandwidths
            slots = self._block.slot_features[self._index, min(t + 1, self.n_subtasks)]
        self.layout.advance(self._observation, t, self._previous, places, slots)
        self._decision[:, t] = places
        self._previous = places
        self._placed += 1
        if self._placed < self.n_subtasks:
            return links[0], None
        return links[0], self._block.final_infos(self._index, self._decision, self._totals)


class MecOffloadOneShotVectorEnv(_VectorBase):
    """``num_envs`` copies of ``MecOffloadOneShot-v0`` (the whole decision in one step).

    Observations (N, 2n + 5) float32, actions (N, n) places; each sub-env as
    ``MecOffloadOneShotEnv`` with the same arguments.
    """

    def _single_spaces(self) -> tuple[spaces.Space, spaces.Space]:
        observation = spaces.Box(
            0.0, OBS_HIGH, shape=(n_features(self.n_subtasks),), dtype=np.float32
        )
        return observation, spaces.MultiDiscrete([N_PLACES] * self.n_subtasks)

    def _observe(self) -> np.ndarray:
        return self._block.features[self._slice].copy()

    def _advance(self, actions: Any) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        self._decision[:] = self._check_actions(actions, (self.num_envs, self.n_subtasks))
        self._placed = self.n_subtasks
        final = self._final_infos()
        return final["cost"], final
