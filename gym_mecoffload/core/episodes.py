"""The episodes protocol every family implements, and the reward and render modes.

An env family provides two pieces, and the adapters of :mod:`gym_mecoffload.core.envs`
make a Gymnasium env and a native vector env of them:

* an :class:`EpisodeSource`: an env's validated view of the family, with the single
  observation and action spaces, its action checks, and :meth:`EpisodeSource.start`,
  which draws (or takes from reset options) the next batch of k episodes;
* :class:`Episodes`: k episodes of equal length stepped in lockstep, batch first (a
  step places one decision in every episode at once), with their observations,
  rewards, final infos and frames. The single env is the batch of one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from gymnasium import spaces

RewardMode = Literal["absolute", "relative"]
REWARD_MODES = ("absolute", "relative")
RENDER_MODES = ("ansi", "rgb_array")
RENDER_FPS = 4
# Any finite float32 is a valid observation; an infinite bound would make the checkers warn.
OBS_HIGH = np.finfo(np.float32).max


def check_render_mode(render_mode: str | None) -> str | None:
    """``render_mode`` if the envs draw it, else a ValueError that says what they draw."""
    if render_mode is None or render_mode in RENDER_MODES:
        return render_mode
    raise ValueError(
        f"render_mode must be None, 'ansi' or 'rgb_array'; got {render_mode!r}. "
        "gym.make(..., render_mode='human') shows the rgb_array frames in a window "
        "(needs pygame), and 'rgb_array_list' collects them."
    )


def check_reward_mode(reward_mode: str) -> str:
    """``reward_mode`` if it is one of :data:`REWARD_MODES`, else a ValueError."""
    if reward_mode not in REWARD_MODES:
        raise ValueError(f"reward_mode must be one of {REWARD_MODES}; got {reward_mode!r}")
    return reward_mode


def check_relative_scale(
    expert: np.ndarray, dearest: np.ndarray, what: str, describe: Callable[[int], str]
) -> None:
    """``reward_mode="relative"`` divides rewards by each task's expert cost (N,): refuse a
    task where it is not > 0 or where ``dearest`` (N,), a bound on any reward's numerator
    (``what``: "step", "episode"), does not divide finitely by it."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        bad = ~(expert > 0) | ~np.isfinite(dearest / expert)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "reward_mode='relative' divides every reward by the expert's cost, which is "
            f"{float(expert[i])!r} for {describe(i)}, against a dearest {what} of "
            f"{float(dearest[i])!r}; use reward_mode='absolute' for tasks that can cost "
            "(almost) nothing"
        )


def check_options(options: Any) -> dict[str, Any]:
    """Reset ``options`` as a dict (None is empty), or a TypeError; which keys they may
    hold is the family's business (:meth:`EpisodeSource.start`)."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError(f"reset options must be a dict or None; got {type(options).__name__}")
    return options


class Episodes(ABC):
    """k episodes of one family stepped in lockstep: every episode has the same number of
    steps, so they start and end together."""

    __slots__ = ()  # families may keep their state in slots: set on every reset
    size: int
    done: bool  # whether the episodes have ended (an attribute or a property)
    # Whether the end is a time limit (``truncated``: work is left) rather than the task's
    # natural end (``terminated``).
    truncates: bool = False

    def infos(self) -> dict[str, np.ndarray]:
        """What every step's and reset's info holds about the current state (arrays with a
        leading k axis, e.g. an action mask); nothing by default."""
        return {}

    def info_one(self) -> dict[str, Any]:
        """A batch of one's :meth:`infos`: the single env's."""
        return {key: value[0].copy() for key, value in self.infos().items()}

    @abstractmethod
    def observations(self) -> np.ndarray:
        """The current observations, (k, ...) in the single space's dtype: a fresh array."""

    def observation_one(self) -> np.ndarray:
        """A batch of one's current observation (a fresh array): the single env's."""
        return self.observations()[0]

    @abstractmethod
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
        """Apply checked ``actions`` (k, ...): the rewards (k,) float64, and the final
        infos as arrays with a leading k axis when the step ended the episodes."""

    def step_one(self, action: Any) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        """One checked action of a batch of one: the single env's step (observation, reward,
        terminated, info). A family may answer faster than through :meth:`step`."""
        rewards, final = self.step(np.asarray([action]))
        info = {}
        if final is not None:
            info = {key: (v[0].item() if v.ndim == 1 else v[0].copy()) for key, v in final.items()}
        return self.observation_one(), float(rewards[0]), final is not None, info

    @abstractmethod
    def replay_options(self, i: int) -> dict[str, Any]:
        """The reset options with which a single env plays episode ``i`` again (its task,
        and whatever else was drawn for it)."""

    @abstractmethod
    def render(self, i: int, mode: str, title: str) -> str | np.ndarray:
        """Episode ``i`` so far: a text (``"ansi"``) or an RGB frame (``"rgb_array"``)."""


class EpisodeSource(ABC):
    """One env's view of a family: its spaces, its action checks and where each batch of
    episodes comes from (drawn from the env's generator, or given in reset options)."""

    observation_space: spaces.Space
    action_space: spaces.Space

    @abstractmethod
    def check_action(self, action: Any) -> Any:
        """A single env's ``action`` in canonical form, or a ValueError saying what is allowed."""

    @abstractmethod
    def check_actions(self, actions: Any, size: int) -> np.ndarray:
        """A vector env's ``actions`` for ``size`` sub-envs as an array, or a ValueError."""

    @abstractmethod
    def start(
        self, size: int, rng: np.random.Generator, options: dict[str, Any], reseeded: bool
    ) -> Episodes:
        """The next ``size`` episodes: drawn from ``rng`` (``reseeded``: it was just seeded,
        so nothing drawn ahead from its old stream may be used), or as ``options`` say."""
