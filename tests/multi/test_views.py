"""The multi-user family's views (Gymnasium dispatcher, PettingZoo) and its experts, each
against an independent computation: the chain model, PettingZoo's own API tests, replays."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import gym_mecoffload  # noqa: F401  (registers the ids)
import gym_mecoffload.multi.envs
from gym_mecoffload.chain.model import TaskBatch, energy, latency
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import MultiCore
from gym_mecoffload.multi.experts import HEURISTICS, Myopic, Rollout, make_policy
from gym_mecoffload.multi.model import draw_episodes, make_scenario


@pytest.mark.parametrize("place", [0, 1, 2])
def test_one_user_one_server_is_the_chain_model_for_one_subtask(place):
    # U = 1, S = 1, empty queues, a static channel: SPEC-MULTI section 3's consistency check.
    sc = make_scenario("paper", users=1, horizon=1, arrival_probability=1.0, min_bandwidth=0.01e6)
    rng = np.random.default_rng(place)
    for _ in range(20):
        ep = draw_episodes(sc, 1, rng)
        core = MultiCore(sc, "energy", Objective(), 1)
        core.reset(ep)
        result = core.step(np.array([[place]]))
        batch = TaskBatch(
            cycles=ep.cycles[:, 0],
            data=np.stack([ep.input_data[:, 0, 0], ep.output_data[:, 0, 0]], axis=1),
            device_hz=ep.device_hz[:, 0],
            edge_hz=ep.edge_hz[:, 0],
            edge_bandwidth=ep.bandwidth[:, 0, 0, 0],
            cloud_bandwidth=ep.cloud_bandwidth[:, 0],
        )
        assert result.latency[0, 0] == pytest.approx(latency(batch, [[place]])[0], rel=1e-12)
        assert result.energy[0, 0] == pytest.approx(energy(batch, [[place]])[0], rel=1e-12)


def test_a_seed_fixes_many_steps_of_the_parallel_env_whatever_the_actions():
    pytest.importorskip("pettingzoo")
    from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv

    def run(actions_seed: int) -> list:
        env = MecOffloadMultiParallelEnv(users=4, servers=2, horizon=12)
        obs, infos = env.reset(seed=3)
        rng = np.random.default_rng(actions_seed)
        trace = [obs["user_0"].copy()]
        while env.agents:
            actions = {a: int(rng.integers(0, 5)) for a in env.agents}
            obs, rewards, _, _, _ = env.step(actions)
            trace.append((obs["user_1"].copy(), env.core.episodes.cycles.copy()))
        return trace

    first, again, other = run(0), run(0), run(1)
    for x, y in zip(first[1:], again[1:], strict=True):
        np.testing.assert_array_equal(x[0], y[0])
    # Other actions change the queues but not the episode's draws.
    for x, y in zip(first[1:], other[1:], strict=True):
        np.testing.assert_array_equal(x[1], y[1])
    assert any(not np.array_equal(x[0], y[0]) for x, y in zip(first[1:], other[1:], strict=True))


@pytest.mark.parametrize("kwargs", [{}, {"scenario": "tiny"}, {"objective": "aoi", "users": 3}])
def test_pettingzoos_own_api_tests_pass(kwargs):
    pytest.importorskip("pettingzoo")
    from pettingzoo.test import api_test, parallel_api_test
    from pettingzoo.utils.conversions import parallel_to_aec

    from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv

    parallel_api_test(MecOffloadMultiParallelEnv(**kwargs), num_cycles=120)
    api_test(parallel_to_aec(MecOffloadMultiParallelEnv(**kwargs)), num_cycles=120)


def test_the_parallel_env_and_the_dispatcher_play_the_same_episode():
    pytest.importorskip("pettingzoo")
    from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv

    pz = MecOffloadMultiParallelEnv(users=3, servers=2, horizon=9)
    env = gym.make("MecOffloadMulti-v0", users=3, servers=2, horizon=9)
    pz.reset(seed=4)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    total = 0.0
    while pz.agents:
        places = rng.integers(0, 5, size=3)
        _, rewards, _, _, _ = pz.step({f"user_{u}": int(p) for u, p in enumerate(places)})
        observation, reward, _, truncated, _ = env.step(places)
        assert sum(rewards.values()) == pytest.approx(reward, rel=1e-12, abs=1e-15)
        np.testing.assert_array_equal(pz.state(), observation)
        total += reward
    assert truncated


def test_a_user_without_a_task_has_its_action_ignored():
    env = gym.make("MecOffloadMulti-v0", users=4, servers=2, horizon=6, arrival_probability=0.5)
    results = []
    for filler in (0, 4):
        env.reset(seed=9)
        rewards = []
        for _ in range(6):
            mask = env.unwrapped.core.current()["has_task"][0]
            action = np.where(mask, 1, filler)
            _, r, _, _, info = env.step(action)
            rewards.append(r)
        results.append(rewards)
        assert info["cost"] == pytest.approx(-sum(rewards))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "action",
    [
        [0, 1, 2],
        [0, 1, 2, 9],
        [0, 1, 2, -1],
        [0.0, 1.0, 2.0, 3.0],
        [True, False, True, False],
        "0123",
    ],
)
def test_bad_actions_are_refused_naming_what_is_allowed(action):
    env = gym.make("MecOffloadMulti-v0", users=4, servers=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions must be integers in \\[0, 4\\]"):
        env.step(action)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"users": 0}, "users must be an integer"),
        ({"servers": True}, "servers must be an integer"),
        ({"horizon": 2.5}, "horizon must be an integer"),
        ({"slot_seconds": float("nan")}, "slot_seconds"),
        ({"slot_seconds": "0.1"}, "slot_seconds must be a real number"),
        ({"cycles": (2e9, 1e9)}, "cycles must be a range low <= high"),
        ({"edge_bandwidth": (0.0, 1e6)}, "edge_bandwidth must be a range"),
        ({"edge_hz": float("inf")}, "edge_hz must be a range"),
        ({"uplink_channels": 0}, "uplink_channels\\[0\\] must be an integer"),
        ({"buffer": [1, 2]}, "buffer must be None, a count, or one per server"),
        ({"arrival_probability": 1.5}, "arrival_probability must be in \\[0, 1\\]"),
        ({"arrival_probability": [0.5] * 3}, "one per user"),
        ({"class_weights": (1.0, -1.0)}, "class_weights"),
        ({"class_probabilities": (0.5, 0.6)}, "class_probabilities must be 2 probabilities"),
        ({"channel": "fading"}, "channel must be one of"),
        ({"outage_probability": 1.0}, "outage_probability"),
        ({"arrivals": "poisson"}, "arrivals must be one of"),
        ({"objective": "throughput"}, "objective must be one of"),
        ({"objective": "deadline", "reward_mode": "relative"}, "reward_mode='relative'"),
        ({"frobnicate": 1}, "unknown multi-user scenario arguments"),
        ({"scenario": "huge"}, "scenario must be one of"),
        ({"task_types": [[1.0, 1.0, 1.0]]}, "task_types must be rows"),
        ({"drop_penalty": -1.0}, "drop_penalty"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        gym.make("MecOffloadMulti-v0", **kwargs)


def test_relative_rewards_refuse_tasks_that_cost_nothing_alone():
    env = gym.make(
        "MecOffloadMulti-v0",
        scenario="paper",
        reward_mode="relative",
        cycles=0.0,
        input_data=0.0,
        output_data=0.0,
        arrival_probability=1.0,
    )
    with pytest.raises(ValueError, match="best cost alone"):
        env.reset(seed=0)


def test_relative_rewards_are_the_costs_over_each_tasks_best_alone():
    kwargs = {"users": 3, "servers": 2, "horizon": 5}
    rel = gym.make("MecOffloadMulti-v0", reward_mode="relative", **kwargs)
    rel.reset(seed=2)
    core = rel.unwrapped.core
    best = core.costs_alone(np.arange(1)).min(axis=-1)[0]  # (T, U)
    for t in range(5):
        _, r, _, _, _ = rel.step(np.ones(3, dtype=np.int64))
        cost = core.record_cost[0, t]
        has = core.record_place[0, t] >= 0
        assert r == pytest.approx(-(cost[has] / best[t][has]).sum(), rel=1e-12)


def _mean_cost(policy, sc, episodes) -> np.ndarray:
    core = MultiCore(sc, "latency", Objective(), episodes.size)
    core.reset(episodes)
    total = np.zeros(episodes.size)
    while not core.done.any():
        total += core.step(policy(core)).cost.sum(axis=-1)
    return total


def test_myopic_gives_each_task_its_least_cost_given_the_earlier_ones():
    # Replayed in the reference-free core one position at a time: every other place of
    # the chosen task, with the same earlier places, costs at least as much.
    sc = make_scenario("multi", users=4, servers=2, horizon=6, buffer=2, uplink_channels=1)
    core = MultiCore(sc, "latency", Objective(), 8)
    core.reset(draw_episodes(sc, 8, np.random.default_rng(1)))
    policy = Myopic()
    while not core.done.any():
        places = policy(core)
        slot_order, count = core.placement_order()
        for b in range(core.size):
            for i in range(int(count[b])):
                u = slot_order[b, i]
                costs = []
                for p in range(sc.n_places):
                    trial = core.select(np.array([b]))
                    trial_places = places[b : b + 1].copy()
                    trial_places[0, u] = p
                    costs.append(trial.step(trial_places).cost[0, u])
                assert costs[places[b, u]] <= min(costs) + 1e-12
        core.step(places)


def test_rollout_is_not_worse_than_its_base_and_the_heuristics_run():
    sc = make_scenario("multi", users=5, servers=2, horizon=8)
    episodes = draw_episodes(sc, 6, np.random.default_rng(5))
    base = _mean_cost(Myopic(), sc, episodes)
    rolled = _mean_cost(Rollout(samples=4, lookahead=3, seed=1), sc, episodes)
    diff = rolled - base
    # Paired: the rollout's mean is below its base's plus three standard errors.
    assert diff.mean() <= 3 * diff.std(ddof=1) / np.sqrt(len(diff)) + 1e-12
    for name in HEURISTICS:
        total = _mean_cost(make_policy(name), sc, episodes)
        assert np.isfinite(total).all() and (total > 0).all()


def test_an_expert_acts_alike_on_the_single_vector_and_pettingzoo_views():
    pytest.importorskip("pettingzoo")
    from gym_mecoffload.multi.experts import DriftPlusPenalty, act, agent_actions
    from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv

    kwargs = {"users": 3, "servers": 2, "horizon": 6}
    vector = gym_mecoffload.multi.envs.MecOffloadMultiVectorEnv(2, **kwargs)
    vector.reset(seed=8)
    singles = [gym.make("MecOffloadMulti-v0", **kwargs) for _ in range(2)]
    for i, env in enumerate(singles):
        env.reset(options=vector.replay_options(i))
    pz = MecOffloadMultiParallelEnv(**kwargs)
    pz.reset(options=vector.replay_options(0))
    policy = DriftPlusPenalty()
    for _ in range(6):
        actions = policy(vector.core)
        _, rewards, _, _, _ = vector.step(actions)
        for i, env in enumerate(singles):
            single_action = act(policy, env.unwrapped.core)
            np.testing.assert_array_equal(single_action, actions[i])
            assert env.step(single_action)[1] == pytest.approx(rewards[i], rel=1e-12)
        _, pz_rewards, _, _, _ = pz.step(agent_actions(policy, pz.core, pz.agents))
        assert sum(pz_rewards.values()) == pytest.approx(rewards[0], rel=1e-12)


def test_frames_show_each_stage_where_it_happens():
    # One user, one server, fixed numbers: the upload takes [0, 1] s, the edge run [1, 1.5] s.
    from gym_mecoffload.core.rendering import LEFT, WIDTH
    from gym_mecoffload.multi.rendering import LANE_PIXELS, USER_COLOURS, lanes

    kwargs = {
        "scenario": "paper", "users": 1, "horizon": 1, "slot_seconds": 1.0,
        "device_hz": 1e9, "edge_hz": 2e9, "edge_bandwidth": 1e6, "cloud_bandwidth": 1e6,
        "cycles": 1e9, "input_data": 1e6, "output_data": 0.0, "arrival_probability": 1.0,
        "deadline": 1.2, "min_bandwidth": 1e4,
    }  # fmt: skip
    env = gym.make("MecOffloadMulti-v0", render_mode="rgb_array", **kwargs)
    env.reset(seed=0)
    env.step(np.array([1]))
    frame = env.render()
    names = lanes(env.unwrapped.core)
    scale = (WIDTH - LEFT - 8) / 1.5  # the last event at 1.5 s

    def pixel(lane: str, seconds: float) -> tuple:
        y = 30 + names.index(lane) * LANE_PIXELS + LANE_PIXELS // 2
        return tuple(frame[y, int(LEFT + seconds * scale)])

    colour = USER_COLOURS[0]
    assert pixel("RADIO U0", 0.5) == colour
    assert pixel("S0 UPLINK", 0.5) == colour
    assert pixel("EDGE S0", 1.25) == colour
    assert pixel("EDGE S0", 0.5) != colour  # nothing ran there before the upload ended
    assert pixel("CPU U0", 0.5) != colour
    # The table: the place, the wait and the latency (1.5 s, a missed 1.2 s deadline).
    env = gym.make("MecOffloadMulti-v0", render_mode="ansi", **kwargs)
    env.reset(seed=0)
    env.step(np.array([1]))
    text = env.render()
    assert "edge 0" in text and "1.5" in text and "missed deadline" in text


def test_the_parallel_env_is_in_pettingzoos_registry_where_it_has_one():
    pytest.importorskip("pettingzoo")
    from gym_mecoffload.multi.parallel import PETTINGZOO_ID, MecOffloadMultiParallelEnv

    try:
        from pettingzoo.env_registry import registration
    except ImportError:  # PettingZoo before 1.27 has no registry
        from gym_mecoffload.multi.parallel import register_pettingzoo

        assert register_pettingzoo() is False
        return
    env = registration.make("parallel", PETTINGZOO_ID, users=3)
    assert isinstance(env, MecOffloadMultiParallelEnv) and len(env.possible_agents) == 3


def test_infos_report_each_resources_utilisation_from_the_booked_times():
    env = gym.make("MecOffloadMulti-v0", users=3, servers=2, horizon=6, uplink_channels=[1, 2])
    env.reset(seed=1)
    rng = np.random.default_rng(2)
    for _ in range(6):
        _, _, _, _, info = env.step(rng.integers(0, 5, size=3))
    core = env.unwrapped.core
    times = core.record_times[0]  # (T, U, stages), NaN where a stage does not apply
    elapsed = 6 * core.scenario.slot_seconds
    device = np.nansum(times[..., 1] - times[..., 0], axis=0) / elapsed
    radio = np.nansum(times[..., 3] - times[..., 2], axis=0) / elapsed
    np.testing.assert_allclose(info["device_utilisation"], device, rtol=1e-12)
    np.testing.assert_allclose(info["radio_utilisation"], radio, rtol=1e-12)
    server = (core.record_place[0] - 1) % 2
    upload = np.nan_to_num(times[..., 3] - times[..., 2])
    uplink = [
        upload[(core.record_place[0] > 0) & (server == s)].sum() / c / elapsed
        for s, c in ((0, 1), (1, 2))
    ]
    np.testing.assert_allclose(info["uplink_utilisation"], uplink, rtol=1e-12)
    edge = [np.nansum((times[..., 5] - times[..., 4])[server == s]) / elapsed for s in (0, 1)]
    np.testing.assert_allclose(info["edge_utilisation"], edge, rtol=1e-12)


def test_partial_reset_starts_one_system_and_leaves_the_others():
    sc = make_scenario("multi", users=3, servers=2, horizon=5)
    rng = np.random.default_rng(0)
    episodes = draw_episodes(sc, 3, rng)
    core = MultiCore(sc, "latency", Objective(), 3)
    core.reset(episodes)
    places = rng.integers(0, 5, size=(5, 3, 3))
    core.step(places[0])
    core.step(places[1])
    fresh = draw_episodes(sc, 1, rng)
    core.reset(fresh, np.array([1]))
    assert list(core.t) == [2, 0, 2]
    alone = MultiCore(sc, "latency", Objective(), 1)
    alone.reset(fresh)
    untouched = MultiCore(sc, "latency", Objective(), 1)
    untouched.reset(episodes.select(slice(0, 1)))
    untouched.step(places[0][:1])
    untouched.step(places[1][:1])
    for t in range(3):
        both = core.step(places[2 + t])
        np.testing.assert_array_equal(both.cost[1], alone.step(places[2 + t][1:2]).cost[0])
        np.testing.assert_array_equal(both.cost[0], untouched.step(places[2 + t][:1]).cost[0])


def test_each_agents_observation_is_its_users_local_observation():
    # A policy trained on the PettingZoo env acts on a core through local_observations.
    pytest.importorskip("pettingzoo")
    from gym_mecoffload.multi.observations import local_observations
    from gym_mecoffload.multi.parallel import MecOffloadMultiParallelEnv

    env = MecOffloadMultiParallelEnv(users=3, servers=2, horizon=5)
    observations, _ = env.reset(seed=4)
    for _ in range(3):
        expected = local_observations(env.core)[0]
        for agent, observation in observations.items():
            np.testing.assert_array_equal(observation, expected[int(agent.split("_")[1])])
        observations, *_ = env.step({agent: 1 for agent in env.agents})
