"""What every family's episodes share: reward modes and render modes."""

from __future__ import annotations

from typing import Literal

RewardMode = Literal["absolute", "relative"]
REWARD_MODES = ("absolute", "relative")
RENDER_MODES = ("ansi", "rgb_array")
RENDER_FPS = 4


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
