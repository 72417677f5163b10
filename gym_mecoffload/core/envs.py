"""What every family's env classes share with gymnasium: its line (0.29 or 1.x) and the
vector envs' autoreset conventions."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

GYMNASIUM_1 = int(gym.__version__.split(".")[0]) >= 1
AUTORESET_MODES = ("next_step", "same_step")


def autoreset_metadata(mode: str) -> dict[str, Any]:
    """The ``autoreset_mode`` metadata of gymnasium >= 1.1 for ``mode`` (nothing before)."""
    enum = getattr(gym.vector, "AutoresetMode", None)  # gymnasium >= 1.1
    if enum is None:
        return {}
    return {"autoreset_mode": enum.NEXT_STEP if mode == "next_step" else enum.SAME_STEP}
