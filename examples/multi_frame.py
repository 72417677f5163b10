"""Draw a frame of MecOffloadMulti-v0 under the myopic expert (docs/multi_frame.png).

python examples/multi_frame.py --out docs/multi_frame.png
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import gym_mecoffload  # noqa: F401
from gym_mecoffload.multi.experts import Myopic, act


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="multi_frame.png")
    args = parser.parse_args()
    env = gym.make(
        "MecOffloadMulti-v0", render_mode="rgb_array", users=4, servers=2, horizon=12, buffer=2
    )
    env.reset(seed=3)
    policy = Myopic()
    for _ in range(8):
        env.step(act(policy, env.unwrapped.core))
    frame = env.render()
    from PIL import Image  # from matplotlib's dependencies (the baselines extra)

    Image.fromarray(np.asarray(frame)).save(args.out)
    print(env.unwrapped.render_mode, frame.shape, "->", args.out)


if __name__ == "__main__":
    main()
