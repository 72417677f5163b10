"""Play a requirement you specify (SI units) instead of a sampled one."""

import gymnasium as gym

import gym_mecoffload  # noqa: F401

state = {
    "cycles": [800e6, 1500e6, 300e6],  # CPU cycles per subtask
    "data": [4e6, 1e6, 2e6, 0.5e6],  # bytes: input, two intermediates, output
    "device_hz": 600e6,  # p1
    "edge_hz": 3e9,  # p2
    "edge_bandwidth": 1.5e6,  # b1, bytes/s
    "cloud_bandwidth": 2e6,  # b2, bytes/s
}
env = gym.make("MecOffloadOneShot-v0", n_subtasks=3)
for decision in ([0, 0, 0], [1, 1, 1], [0, 1, 1]):
    env.reset(options={"state": state})
    _, reward, *_, info = env.step(decision)
    print(f"{decision}: latency {info['latency']:.3f} s, device energy {info['energy']:.3f} J")
print(f"optimal {info['optimal_decision'].tolist()}: latency {info['optimal_latency']:.3f} s")
