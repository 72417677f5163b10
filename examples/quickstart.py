"""Make the env, play one task subtask by subtask, and read the final info."""

import gymnasium as gym

import gym_mecoffload  # noqa: F401  (registers the environments)

env = gym.make("MecOffload-v0")
observation, info = env.reset(seed=42)
total_reward = 0.0
terminated = False
while not terminated:
    action = env.action_space.sample()  # 0 device, 1 edge, 2 cloud
    observation, reward, terminated, truncated, info = env.step(action)
    total_reward += reward

print(
    f"decision {info['decision'].tolist()}: latency {info['latency']:.2f} s (return {total_reward:.2f})"
)
print(f"optimum  {info['optimal_decision'].tolist()}: latency {info['optimal_latency']:.2f} s")
print(f"normalised latency: {info['latency'] / info['optimal_latency']:.3f}")
