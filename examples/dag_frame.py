"""Draw a frame of MecOffloadDag-v0: a HEFT-like agent's schedule halfway through a
task, above the MILP expert's, and the next subtask with its parents.

    python examples/dag_frame.py [OUT.png]     # docs/dag_frame.png, shown in docs/dag.md
"""

import sys

import gymnasium as gym
import numpy as np

import gym_mecoffload  # noqa: F401 - registers the ids
from gym_mecoffload.dag.observations import DagLayout

env = gym.make("MecOffloadDag-v0", n_subtasks=10, optimum="milp", render_mode="rgb_array")
observation, _ = env.reset(seed=4)
view = DagLayout(10).current_view_offset + 2 * 10 + 3  # the earliest finish at each place
for _ in range(6):  # the place where the current subtask would finish first (HEFT's rule)
    observation, *_ = env.step(int(np.argmin(observation[view : view + 3])))
frame = env.render()
print(f"a {frame.shape[0]} x {frame.shape[1]} frame after 6 of 10 subtasks")
if len(sys.argv) > 1:
    from PIL import Image  # pillow comes with matplotlib (the baselines extra)

    Image.fromarray(frame).save(sys.argv[1])
    print("saved", sys.argv[1])
