"""The one pair of env adapters every family runs on: a Gymnasium env and a native
vector env over a family's :class:`~gym_mecoffload.core.episodes.EpisodeSource`.

The single env is a batch of one episode. The vector env steps N episodes at once
in numpy; since every episode of a family lasts the same number of steps, its
sub-envs run in lockstep and reset together.

Autoreset follows the installed gymnasium line: on 1.x, the next ``step`` after the
last one resets every sub-env and ignores its actions (``AutoresetMode.NEXT_STEP``,
Gymnasium's default); on 0.29, the last step returns the new episodes' observations
and puts the finished ones in ``info["final_observation"]`` and ``info["final_info"]``.
``autoreset_mode`` chooses the other. :meth:`EpisodesVectorEnv.step_same_step` steps
in the same-step convention whatever the mode, for adapters to other vector APIs
(SB3's ``VecEnv``).
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space

from gym_mecoffload.core.checks import check_count
from gym_mecoffload.core.episodes import (
    RENDER_FPS,
    RENDER_MODES,
    Episodes,
    EpisodeSource,
    check_options,
    check_render_mode,
)

GYMNASIUM_1 = int(gym.__version__.split(".")[0]) >= 1
AUTORESET_MODES = ("next_step", "same_step")
# gymnasium >= 1.1 names the modes with an enum; its vector envs and wrappers (and
# TorchRL's GymWrapper) read it from the env's ``autoreset_mode``.
_AUTORESET_ENUM = getattr(gym.vector, "AutoresetMode", None)


def check_autoreset_mode(autoreset_mode: Any) -> str:
    """``"next_step"`` or ``"same_step"`` from their names or gymnasium's ``AutoresetMode``
    values (None: the installed line's default), or a ValueError."""
    if autoreset_mode is None:
        return "next_step" if GYMNASIUM_1 else "same_step"
    if _AUTORESET_ENUM is not None and isinstance(autoreset_mode, _AUTORESET_ENUM):
        autoreset_mode = {
            _AUTORESET_ENUM.NEXT_STEP: "next_step",
            _AUTORESET_ENUM.SAME_STEP: "same_step",
        }.get(autoreset_mode, autoreset_mode)
    if autoreset_mode not in AUTORESET_MODES:
        raise ValueError(
            f"autoreset_mode must be one of {AUTORESET_MODES} or None; got {autoreset_mode!r}"
        )
    return autoreset_mode


def autoreset_metadata(mode: str) -> dict[str, Any]:
    """The ``autoreset_mode`` metadata of gymnasium >= 1.1 for ``mode`` (nothing before)."""
    if _AUTORESET_ENUM is None:
        return {}
    return {"autoreset_mode": _autoreset_value(mode)}


def _autoreset_value(mode: str) -> Any:
    """``mode`` as gymnasium names it: its ``AutoresetMode`` value (>= 1.1), else the name."""
    if _AUTORESET_ENUM is None:
        return mode
    return _AUTORESET_ENUM.NEXT_STEP if mode == "next_step" else _AUTORESET_ENUM.SAME_STEP


class EpisodesEnv(gym.Env):
    """A Gymnasium env over a family's episodes: one episode at a time.

    Families subclass it with their keyword arguments and docstring (the env's
    manual), and pass their :class:`~gym_mecoffload.core.episodes.EpisodeSource`.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(self, source: EpisodeSource, render_mode: str | None) -> None:
        self.source = source
        self.render_mode = check_render_mode(render_mode)
        self.observation_space = source.observation_space
        self.action_space = source.action_space
        self._episodes: Episodes | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = check_options(options)
        self._episodes = self.source.start(1, self.np_random, options, seed is not None)
        return self._episodes.observation_one(), self._episodes.info_one()

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        episodes = self._episodes
        if episodes is None or episodes.done:
            raise RuntimeError("the episode is over (or never began): call reset() before step()")
        observation, reward, ended, info = episodes.step_one(self.source.check_action(action))
        if not ended:  # the final info holds the episode's figures only, as the vector env's
            info = episodes.info_one()
        truncated = ended and episodes.truncates
        return observation, reward, ended and not truncated, truncated, info

    def render(self) -> str | np.ndarray | None:
        """The episode so far: a text (``"ansi"``) or an RGB frame (``"rgb_array"``)."""
        if self.render_mode is None:
            gym.logger.warn(
                "render() was called without a render_mode; pass render_mode='ansi' or "
                f"'rgb_array' to gym.make({self.spec.id if self.spec else type(self).__name__!r}, ...)"
            )
            return None
        if self._episodes is None:
            raise RuntimeError("nothing to render yet: call reset() first")
        return self._episodes.render(0, self.render_mode, type(self).__name__)


class EpisodesVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` episodes of a family stepped together in numpy (module doc: autoreset).

    Families subclass it with their keyword arguments; a sub-env's episode is the single
    env's, step for step, given the same task.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(
        self,
        source: EpisodeSource,
        num_envs: int,
        render_mode: str | None,
        autoreset_mode: Any,
    ) -> None:
        mode = check_autoreset_mode(autoreset_mode)
        self.source = source
        self.render_mode = check_render_mode(render_mode)
        self.num_envs = check_count("num_envs", num_envs, 1)
        # As gymnasium's own vector envs hold it: its AutoresetMode value on >= 1.1.
        self.autoreset_mode = _autoreset_value(mode)
        self._same_step = mode == "same_step"
        self.metadata = {**type(self).metadata, **autoreset_metadata(mode)}
        self.is_vector_env = True  # gymnasium 0.29's VectorEnv sets these three
        self.viewer = None
        self.closed = False
        self.single_observation_space = source.observation_space
        self.single_action_space = source.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._np_random: np.random.Generator | None = None
        self._np_random_seed: int | None = None
        self._episodes: Episodes | None = None
        self._pending_reset = False  # next-step autoreset: the last step ended every episode

    @property
    def np_random(self) -> np.random.Generator:
        """The generator every sub-env's episodes come from (seeded by ``reset(seed=...)``)."""
        if self._np_random is None:
            self._np_random, self._np_random_seed = seeding.np_random()
        return self._np_random

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every sub-env's episode. ``seed`` (an int) seeds the one generator all
        sub-envs draw from; ``options`` are the family's (see the env's docstring)."""
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
                raise TypeError(
                    "seed must be an int or None (every sub-env draws its tasks from one "
                    f"generator, so one seed serves them all); got {seed!r}"
                )
            self._np_random, self._np_random_seed = seeding.np_random(int(seed))
        options = check_options(options)
        self._episodes = self.source.start(self.num_envs, self.np_random, options, seed is not None)
        self._pending_reset = False
        return self._episodes.observations(), self._state_infos()

    def _state_infos(self) -> dict[str, Any]:
        """The episodes' :meth:`Episodes.infos` with gymnasium's ``_key`` masks (every sub-env)."""
        infos = self._episodes.infos()
        return {**infos, **{f"_{key}": np.ones(self.num_envs, dtype=bool) for key in infos}}

    def _ends(self) -> tuple[np.ndarray, np.ndarray]:
        """(terminated, truncated) of a step that ended every episode."""
        everyone = np.ones(self.num_envs, dtype=bool)
        if self._episodes.truncates:
            return ~everyone, everyone
        return everyone, ~everyone

    def _next_episodes(self) -> None:
        self._episodes = self.source.start(self.num_envs, self.np_random, {}, False)

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        falses = np.zeros(self.num_envs, dtype=bool)
        if self._same_step:
            observations, rewards, terminated, final_observations, final = self.step_same_step(
                actions
            )
            info = self._state_infos()
            if final is None:
                return observations, rewards, terminated, falses, info
            terminated, truncated = self._ends()
            info.update(self._same_step_info(final_observations, final))
            return observations, rewards, terminated, truncated, info
        if self._pending_reset:  # next-step autoreset: these actions are ignored
            self._next_episodes()
            self._pending_reset = False
            return (
                self._episodes.observations(),
                np.zeros(self.num_envs),
                falses,
                falses.copy(),
                self._state_infos(),
            )
        observations, rewards, final = self._step_now(actions)
        if final is None:
            return observations, rewards, falses, falses.copy(), self._state_infos()
        self._pending_reset = True
        terminated, truncated = self._ends()
        masks = {f"_{key}": np.ones(self.num_envs, dtype=bool) for key in final}
        return observations, rewards, terminated, truncated, {**final, **masks}

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
        self._next_episodes()
        return (
            self._episodes.observations(),
            rewards,
            np.ones(self.num_envs, dtype=bool),
            observations,
            final,
        )

    def _step_now(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        if self._episodes is None:
            raise RuntimeError("call reset() before step()")
        checked = self.source.check_actions(actions, self.num_envs)
        rewards, final = self._episodes.step(checked)
        return self._episodes.observations(), rewards, final

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

    def replay_options(self, i: int) -> dict[str, Any]:
        """The reset options with which the single env plays sub-env ``i``'s current episode
        again: ``gym.make(id, **same_kwargs).reset(options=vector.replay_options(i))``, then
        the same actions give the same observations, rewards and final info."""
        if self._episodes is None:
            raise RuntimeError("no episodes yet: call reset() first")
        check_count("i", i, 0, self.num_envs - 1)
        return self._episodes.replay_options(i)

    def render(self) -> tuple[str | np.ndarray, ...] | None:
        """One frame per sub-env, as the single env draws it (see its ``render``)."""
        if self.render_mode is None:
            gym.logger.warn("render() was called without a render_mode ('ansi' or 'rgb_array')")
            return None
        if self._episodes is None:
            raise RuntimeError("nothing to render yet: call reset() first")
        name = type(self).__name__
        return tuple(
            self._episodes.render(i, self.render_mode, f"{name}[{i}]") for i in range(self.num_envs)
        )

    def close_extras(self, **kwargs: Any) -> None:
        """Nothing to release: no sub-processes, no windows."""
