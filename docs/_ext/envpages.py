"""A page per registered environment, written from its class's docstring (the manual
lives in one place) with a frame drawn by the env itself, before Sphinx reads the
sources. The pages and frames are build outputs (docs/envs/, ignored by git)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import gym_mecoffload  # noqa: F401 - registers the ids

# The frame of each page: a few steps of a seeded episode (with the expert where the
# env offers one, so the frame shows both schedules).
FRAME_KWARGS: dict[str, dict[str, Any]] = {
    "MecOffloadDag-v0": {"n_subtasks": 10, "optimum": "milp"}
}
FRAME_STEPS = 3


def _class(entry_point: str) -> type:
    module, name = entry_point.split(":")
    return getattr(importlib.import_module(module), name)


def _frame(env_id: str, path: Path, clip: Path) -> None:
    """A still after a few steps of a seeded episode, and the whole episode as an
    animated GIF (a frame per step: the agent's schedule growing above the expert's)."""
    from PIL import Image  # pillow comes with matplotlib, in the baselines extra

    env = gym.make(env_id, render_mode="rgb_array", **FRAME_KWARGS.get(env_id, {}))
    env.reset(seed=0)
    env.action_space.seed(0)
    frames = [env.render()]
    done = False
    while not done:
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        done = terminated or truncated
        frames.append(env.render())
    assert all(isinstance(frame, np.ndarray) for frame in frames)
    Image.fromarray(frames[min(FRAME_STEPS, len(frames) - 1)]).save(path)
    pictures = [Image.fromarray(frame) for frame in frames]
    pictures[0].save(clip, save_all=True, append_images=pictures[1:], duration=700, loop=0)


def _page(env_id: str, spec: Any) -> str:
    single = _class(spec.entry_point)
    lines = [
        f"# {env_id}",
        "",
        f"![a frame of {env_id}](frames/{env_id}.png)",
        "",
        f"An episode of random actions, step by step (the agent above, the expert below): "
        f"![an episode of {env_id}](frames/{env_id}.gif)",
        "",
    ]
    rows = [
        ("Class", f"`{spec.entry_point.replace(':', '.')}`"),
        ("Make", f'`gym.make("{env_id}")`'),
    ]
    vector = getattr(spec, "vector_entry_point", None)
    if vector is not None:
        rows.append(("Vector env", f"`{vector.replace(':', '.')}` (`vector_entry_point`)"))
    lines += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]
    lines.append(inspect.cleandoc(single.__doc__ or ""))
    return "\n".join(lines) + "\n"


def write_env_pages(folder: Path) -> list[str]:
    """One page per registered ``MecOffload*`` id into ``folder``, and an index; returns
    the ids."""
    frames = folder / "frames"
    frames.mkdir(parents=True, exist_ok=True)
    ids = sorted(i for i in gym.registry if i.startswith("MecOffload"))
    for env_id in ids:
        spec = gym.registry[env_id]
        (folder / f"{env_id}.md").write_text(_page(env_id, spec))
        _frame(env_id, frames / f"{env_id}.png", frames / f"{env_id}.gif")
    index = ["# Environments", "", "```{toctree}", ":maxdepth: 1", "", *ids, "```", ""]
    overview = (folder.parent / "environments.md").read_text().split("\n", 1)[1]
    # The overview's links and images are relative to docs/; this page is one level down.
    overview = re.sub(r"\]\((?!https?:|#|\.\./)", "](../", overview)
    (folder / "index.md").write_text("\n".join(index) + "\n" + overview)
    return ids


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", lambda app: write_env_pages(Path(app.srcdir) / "envs"))
    return {"parallel_read_safe": True, "version": "1"}
