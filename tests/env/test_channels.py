"""Fluctuating and unreliable channels (SPEC-CHANNELS), each claim against an independent
computation: brute force over every channel path, Monte Carlo, hand-coded latencies."""

import functools
import itertools
import math

import gymnasium as gym
import numpy as np
import pytest
from comparing import assert_same
from env_cases import MB

import gym_mecoffload  # noqa: F401 - registers the ids
from gym_mecoffload import MecOffloadVectorEnv, solvers
from gym_mecoffload.chain.model import LinkCosts, TaskBatch, cost, sample_states, step_costs
from gym_mecoffload.chain.rendering import timeline
from gym_mecoffload.channels import ChannelModel, MarkovChannel, RayleighChannel
from gym_mecoffload.channels.experts import (
    CertaintyEquivalent,
    MdpExpert,
    SequentialGreedy,
    clairvoyant,
    rollout,
)
from gym_mecoffload.channels.processes import as_channel
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.core.scenario import as_scenario

CHANNELS = ["static", "iid", "markov", "rayleigh"]


def hand_latency(state, decision, edge, cloud, attempts):
    """SPEC-CHANNELS section 1 in plain Python: slot k moves data[k] at its own bandwidths,
    attempts[k] times; execution as SPEC.md."""
    hz = [state["device_hz"], state["edge_hz"], state.get("cloud_hz", math.inf)]
    places = [0, *decision, 0]
    total = 0.0
    for k, data in enumerate(state["data"]):
        a, b = places[k], places[k + 1]
        hops = abs(a - b)
        per_byte = 0.0
        if hops and min(a, b) == 0:
            per_byte += 1 / edge[k]
        if hops and max(a, b) == 2:
            per_byte += 1 / cloud[k]
        total += data * attempts[k] * per_byte
        if k < len(decision):
            total += state["cycles"][k] / hz[decision[k]]
    return total


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("outage", [0.0, 0.3])
def test_the_final_info_recomputes_the_return_by_hand(channel, outage):
    env = gym.make("MecOffload-v0", n_subtasks=5, channel=channel, outage_probability=outage)
    rng = np.random.default_rng(3)
    observation, _ = env.reset(seed=4)
    for _episode in range(4):
        task, total = env.unwrapped.task.state(0), 0.0
        shown = [observation[13:15]]
        while True:
            observation, reward, terminated, _, info = env.step(int(rng.integers(3)))
            total += reward
            shown.append(observation[13:15])
            if terminated:
                break
        edge, cloud, attempts = info["edge_bandwidths"], info["cloud_bandwidths"], info["attempts"]
        assert len(edge) == len(cloud) == len(attempts) == 6
        expected = hand_latency(task, info["decision"].tolist(), edge, cloud, attempts)
        assert -total == info["cost"] == info["latency"]
        assert info["latency"] == pytest.approx(expected, rel=1e-12)
        # Each step showed the current slot's bandwidths, in MB/s as float32.
        assert_same(np.array(shown), (np.stack([edge, cloud], axis=1) / MB).astype(np.float32))
        assert np.allclose(np.array(shown) * MB, np.stack([edge, cloud], axis=1), rtol=1e-6)
        if channel == "static":
            assert (edge == edge[0]).all() and (cloud == cloud[0]).all()
        if outage == 0.0:
            assert (attempts == 1).all()
        observation, _ = env.reset()


def test_static_slots_give_the_papers_links_bit_for_bit():
    tasks = sample_states(500, rng=np.random.default_rng(0))
    for objective in ("latency", "energy", "weighted"):
        assert_same(step_costs(tasks, objective, Slots.fixed(tasks)), step_costs(tasks, objective))
        assert_same(
            solvers.optimal(tasks, objective, Slots.fixed(tasks)), solvers.optimal(tasks, objective)
        )


def test_a_static_reliable_channel_draws_nothing_and_keeps_every_number():
    """channel='static' (explicit) and the default give the same stream, info for info."""
    default = gym.make("MecOffload-v0")
    explicit = gym.make("MecOffload-v0", channel="static", outage_probability=0.0)
    for env in (default, explicit):
        env.reset(seed=9)
    for _ in range(30):
        results = [env.step(1) for env in (default, explicit)]
        assert_same(results[0][0], results[1][0])
        if results[0][2]:
            for key in ("latency", "optimal_latency", "optimal_decision", "mdp_cost"):
                assert_same(results[0][4][key], results[1][4][key])
            assert results[0][4]["mdp_cost"] == results[0][4]["optimal_cost"]
            for env in (default, explicit):
                env.reset()
    # Against the DP directly, on the task the env drew.
    env = gym.make("MecOffload-v0")
    env.reset(seed=5)
    for _ in range(6):
        *_, info = env.step(0)
    assert_same(info["optimal_decision"], solvers.optimal(env.unwrapped.task)[0].astype(np.int64))


def _transition_by_hand(k, stay):
    matrix = [[0.0] * k for _ in range(k)]
    for i in range(k):
        matrix[i][i] = stay if k > 1 else 1.0
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < k]
        for j in neighbours:
            matrix[i][j] += (1 - stay) / len(neighbours)
    return matrix


def _optimum_over_histories(links, paths, p1, p2, n):
    """The least expected cost of any adaptive policy, by recursion over whole histories of
    slot levels (not over the Markov state): ``links[t, prev, p, path]`` prices subtask t
    on each path, whose first slots match the history."""
    row_of = {}  # a history of slot levels -> the first path that begins with it
    for j, (a, b) in enumerate(paths):
        pairs = tuple(zip(a, b, strict=True))
        for length in range(1, n + 2):
            row_of.setdefault(pairs[:length], j)
    levels = list(itertools.product(range(len(p1)), range(len(p2))))

    @functools.cache
    def best(t, prev, history):
        """Least expected cost to go, knowing the levels of slots 0..t (history)."""
        l1, l2 = history[-1]
        options = []
        for p in range(3):
            if t == n - 1:
                # The last link includes the output's return in slot n: average over it.
                options.append(
                    sum(
                        p1[l1][m1] * p2[l2][m2] * links[t, prev, p, row_of[(*history, (m1, m2))]]
                        for m1, m2 in levels
                    )
                )
                continue
            ahead = sum(
                p1[l1][m1] * p2[l2][m2] * best(t + 1, p, (*history, (m1, m2))) for m1, m2 in levels
            )
            options.append(links[t, prev, p, row_of[history]] + ahead)
        return min(options)

    return sum(best(0, 0, (pair,)) for pair in levels) / len(levels)


@pytest.mark.parametrize("objective", ["latency", "weighted"])
def test_the_markov_mdp_equals_brute_force_over_every_channel_path(objective):
    """Optimal expected cost by recursion over whole histories (not the Markov state) and by
    enumerating every path with the expert's rollout: all three agree."""
    n, stay = 3, 0.6
    edge_levels, cloud_levels = (0.2 * MB, 1.5 * MB), (0.3 * MB, 1.0 * MB, 2.5 * MB)
    model = ChannelModel.build(
        MarkovChannel(stay=stay, edge_levels=edge_levels, cloud_levels=cloud_levels), 0.0, "paper"
    )
    tasks = sample_states(3, n_subtasks=n, rng=np.random.default_rng(1))
    expert = MdpExpert(tasks, model, objective)
    p1, p2 = _transition_by_hand(2, stay), _transition_by_hand(3, stay)
    paths = list(
        itertools.product(
            itertools.product(range(2), repeat=n + 1), itertools.product(range(3), repeat=n + 1)
        )
    )

    def probability(path):
        (l1, l2), p = path, 1 / 6
        for k in range(n):
            p *= p1[l1[k]][l1[k + 1]] * p2[l2[k]][l2[k + 1]]
        return p

    weights = np.array([probability(path) for path in paths])
    assert weights.sum() == pytest.approx(1.0, rel=1e-12)
    for i in range(len(tasks)):
        task = tasks[i]
        size = len(paths)
        slots = Slots(
            np.array([[edge_levels[level] for level in l1] for l1, _ in paths]),
            np.array([[cloud_levels[level] for level in l2] for _, l2 in paths]),
            np.ones((size, n + 1), dtype=np.int64),
        )
        repeated = task[np.zeros(size, dtype=np.intp)]
        # Links of every slot level pair: the model's per-slot links on each path.
        links = np.moveaxis(step_costs(repeated, objective, slots), 0, -1)  # (n, 3, 3, paths)

        brute = _optimum_over_histories(links, paths, p1, p2, n)
        assert expert.expected_cost()[i] == pytest.approx(brute, rel=1e-12)
        lower, upper = expert.expected_cost_bounds()
        assert lower[i] == upper[i] == expert.expected_cost()[i]
        # The expert's own rollout on every path, weighted by the path's chance.
        path_expert = MdpExpert(repeated, model, objective)
        decisions = rollout(repeated, slots, path_expert)
        realised = cost(repeated, decisions, objective, slots)
        assert (weights * realised).sum() == pytest.approx(brute, rel=1e-12)


def _episodes(channel, outage, size, seed, n_subtasks=6):
    model = ChannelModel.build(channel, outage, "paper")
    rng = np.random.default_rng(seed)
    tasks, slots = model.realise(sample_states(size, n_subtasks=n_subtasks, rng=rng), rng)
    return model, tasks, slots, rng


@pytest.mark.parametrize(
    ("channel", "outage", "size"),
    [
        ("markov", 0.0, 20_000),
        ("markov", 0.1, 20_000),
        ("rayleigh", 0.1, 8_000),
        ("iid", 0.0, 8_000),
    ],
)
def test_the_mdp_expert_beats_every_other_policy_in_expectation(channel, outage, size):
    """Paired Monte Carlo: the mean excess cost of every other policy over the MDP expert is
    positive with a 4-standard-error margin; and the clairvoyant is never beaten."""
    model, tasks, slots, rng = _episodes(channel, outage, size, seed=11)
    policies = {
        "mdp": MdpExpert(tasks, model),
        "certainty_equivalent": CertaintyEquivalent(tasks, model),
        "greedy": SequentialGreedy(tasks, model),
    }
    decisions = {name: rollout(tasks, slots, policy) for name, policy in policies.items()}
    for place, name in enumerate(("local", "edge", "cloud")):
        decisions[name] = np.full((size, 6), place)
    decisions["random"] = rng.integers(0, 3, size=(size, 6))
    # The paper's one-shot optimum on slot 0's bandwidths, kept for the whole task.
    decisions["one_shot_optimal"] = solvers.optimal(tasks)
    costs = {name: cost(tasks, d, "latency", slots) for name, d in decisions.items()}
    hindsight = cost(tasks, clairvoyant(tasks, slots), "latency", slots)
    for name, values in costs.items():
        assert (hindsight <= values * (1 + 1e-12)).all(), name
        if name == "mdp":
            continue
        excess = values - costs["mdp"]
        standard_error = excess.std(ddof=1) / math.sqrt(size)
        assert excess.mean() > 4 * standard_error, (name, excess.mean(), standard_error)


@pytest.mark.parametrize("channel", ["iid", "rayleigh"])
def test_the_quadrature_brackets_the_expert_and_its_stated_error_holds(channel):
    """The proved bracket holds around a Monte Carlo estimate of the expert's own expected
    cost, and the 16-cell estimate is within 0.5% of a 64-cell one."""
    model, tasks, _, _ = _episodes(channel, 0.0, 4, seed=2)
    expert = MdpExpert(tasks, model)
    lower, upper = expert.expected_cost_bounds()
    assert (lower <= upper).all()
    fine = MdpExpert(tasks, model, n_cells=64)
    fine_lower, fine_upper = fine.expected_cost_bounds()
    assert (fine_lower >= lower - 1e-9).all() and (fine_upper <= upper + 1e-9).all()
    assert np.allclose(expert.expected_cost(), fine.expected_cost(), rtol=5e-3)
    episodes = 40_000
    rng = np.random.default_rng(8)
    for i in range(len(tasks)):
        repeated = tasks[np.full(episodes, i)]
        # Fresh slots for the same task: redraw every slot, slot 0 included.
        drawn, slots = model.realise(repeated, rng)
        values = cost(drawn, rollout(drawn, slots, MdpExpert(drawn, model)), "latency", slots)
        mean, error = values.mean(), values.std(ddof=1) / math.sqrt(episodes)
        # The expert's cost is at least the optimum's (>= lower) and at most what its
        # quadrature promised plus the quadrature's own error (both sides of the bracket).
        slack = 4 * error + 1e-12 * mean  # a policy that never transfers has no variance
        assert lower[i] - slack <= mean <= upper[i] + (upper[i] - lower[i]) + slack
        assert mean == pytest.approx(fine.expected_cost()[i], rel=0.01)


def test_the_rayleigh_quadrature_cells_match_monte_carlo_and_a_fine_integral():
    law = ChannelModel.build("rayleigh", 0.0, "paper").link_laws()[0]
    cells = law.cells(16)
    assert cells.probability.sum() == pytest.approx(1.0, rel=1e-12)
    quadrature = (cells.probability * cells.mean).sum()
    # E[1/b] by the trapezoid rule on a fine grid in the gain g (density e^-g).
    gain = np.concatenate([[0.0], np.geomspace(1e-9, 60.0, 2_000_001)])
    integrand = np.exp(-gain) / law.bandwidth(gain)
    fine = float(((integrand[1:] + integrand[:-1]) / 2 * np.diff(gain)).sum())
    assert quadrature == pytest.approx(fine, rel=1e-5)
    samples = 1 / law.sample(np.random.default_rng(0), (2_000_000,))
    assert abs(samples.mean() - quadrature) < 4 * samples.std() / math.sqrt(samples.size)
    assert ((cells.low <= cells.mean) & (cells.mean <= cells.high)).all()


def test_markov_slots_follow_the_stated_law():
    stay = 0.7
    model = ChannelModel.build(MarkovChannel(stay=stay), 0.0, "paper")
    law = model.link_laws()[0]
    levels = law.sample_levels(np.random.default_rng(0), (50_000, 7))
    # Default levels: midpoints of 4 equal parts of [0.01, 2] MB/s.
    assert np.allclose(law.levels, 0.01 * MB + 1.99 * MB / 4 * (np.arange(4) + 0.5))
    first = np.bincount(levels[:, 0], minlength=4) / len(levels)
    assert np.allclose(first, 0.25, atol=0.01)
    counts = np.zeros((4, 4))
    np.add.at(counts, (levels[:, :-1].ravel(), levels[:, 1:].ravel()), 1)
    empirical = counts / counts.sum(axis=1, keepdims=True)
    assert np.allclose(empirical, _transition_by_hand(4, stay), atol=0.01)


def test_outage_attempts_are_geometric():
    model, _, slots, _ = _episodes("static", 0.25, 20_000, seed=0)
    attempts = slots.attempts.ravel()
    assert attempts.min() == 1
    assert attempts.mean() == pytest.approx(1 / 0.75, rel=0.01)
    assert (attempts == 1).mean() == pytest.approx(0.75, abs=0.01)
    assert model.mean_attempts == pytest.approx(1 / 0.75)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("env_id", ["MecOffload-v0", "MecOffloadOneShot-v0"])
def test_seeded_episodes_repeat_whatever_the_agent_does(channel, env_id):
    """A seed fixes the slots and attempts: different actions, same channel."""
    infos = []
    for actions in (0, 2):
        env = gym.make(env_id, channel=channel, outage_probability=0.2, n_subtasks=4)
        env.reset(seed=21)
        action = actions if env_id == "MecOffload-v0" else np.full(4, actions)
        episode = []
        for _ in range(12 if env_id == "MecOffload-v0" else 3):
            *_, terminated, _, info = env.step(action)
            if terminated:
                episode.append(info)
                env.reset()
        infos.append(episode)
    for first, second in zip(*infos, strict=True):
        for key in ("edge_bandwidths", "cloud_bandwidths", "attempts", "optimal_cost", "mdp_cost"):
            assert_same(first[key], second[key])


def test_the_one_shot_env_sees_slot_0_and_pays_the_realised_slots():
    env = gym.make("MecOffloadOneShot-v0", channel="rayleigh", outage_probability=0.2)
    observation, _ = env.reset(seed=2)
    _, reward, _, _, info = env.step(np.array([1, 2, 2, 0, 1, 1]))
    assert observation[-2] * MB == pytest.approx(info["edge_bandwidths"][0], rel=1e-6)
    task = env.unwrapped.task.state(0)
    expected = hand_latency(
        task,
        [1, 2, 2, 0, 1, 1],
        info["edge_bandwidths"],
        info["cloud_bandwidths"],
        info["attempts"],
    )
    assert -reward == info["latency"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("channel", ["markov", "rayleigh"])
def test_the_vector_env_replays_single_envs_given_the_same_slots(channel):
    kwargs = {"channel": channel, "outage_probability": 0.1, "n_subtasks": 4}
    vector = MecOffloadVectorEnv(num_envs=3, autoreset_mode="next_step", **kwargs)
    singles = [gym.make("MecOffload-v0", **kwargs) for _ in range(3)]
    observations, _ = vector.reset(seed=1)
    rng = np.random.default_rng(0)
    for i, single in enumerate(singles):
        obs, _ = single.reset(options={"state": vector.tasks[i], "slots": vector.slots[i]})
        assert_same(obs, observations[i])
    for _ in range(4):
        actions = rng.integers(0, 3, size=3)
        observations, rewards, terminated, _, info = vector.step(actions)
        for i, single in enumerate(singles):
            obs, reward, term, _, single_info = single.step(int(actions[i]))
            assert reward == rewards[i] and term == terminated[i]
            if term:
                for key in ("latency", "optimal_cost", "mdp_cost", "mdp_decision", "attempts"):
                    assert_same(info[key][i], single_info[key])
            else:
                assert_same(obs, observations[i])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channel": "fading"}, "channel must be one of"),
        ({"channel": 3}, "channel must be one of"),
        # The allowed range is stated as it is: [0, 0.999], not [0, 1).
        ({"outage_probability": 1.0}, r"\[0, 0\.999\]"),
        ({"outage_probability": -0.1}, r"\[0, 0\.999\]"),
        ({"outage_probability": float("nan")}, r"\[0, 0\.999\]"),
        ({"outage_probability": 0.9999}, r"\[0, 0\.999\]"),
        ({"outage_probability": "0.1"}, "real number"),
        ({"outage_probability": True}, "real number"),
    ],
)
def test_bad_channel_arguments_are_refused_clearly(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        gym.make("MecOffload-v0", **kwargs)
    with pytest.raises((ValueError, TypeError), match=message):
        MecOffloadVectorEnv(num_envs=2, **kwargs)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: MarkovChannel(stay=1.5), "stay must be a probability"),
        (lambda: MarkovChannel(stay=float("nan")), "stay must be a probability"),
        (lambda: MarkovChannel(n_levels=0), "n_levels"),
        (lambda: MarkovChannel(edge_levels=(2e6, 1e6)), "increasing"),
        (lambda: MarkovChannel(edge_levels=(0.0, 1e6)), "> 0"),
        (lambda: MarkovChannel(edge_levels="fast"), "real numbers"),
        (lambda: RayleighChannel(bandwidth_hz=float("inf")), "bandwidth_hz"),
        (lambda: RayleighChannel(mean_snr_db=(10.0, 20.0, 30.0)), "pair"),
        (lambda: RayleighChannel(mean_snr_db=float("nan")), "mean_snr_db"),
    ],
)
def test_bad_channel_parameters_are_refused_clearly(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_bad_slots_are_refused_clearly():
    good = np.full((1, 3), 1e6)
    ones = np.ones((1, 3), dtype=np.int64)
    with pytest.raises(ValueError, match="attempts must be integers >= 1"):
        Slots(good, good, np.zeros((1, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="attempts must be integers"):
        Slots(good, good, np.ones((1, 3)))
    with pytest.raises(ValueError, match="edge_bandwidths must be finite and > 0"):
        Slots(np.full((1, 3), np.nan), good, ones)
    with pytest.raises(ValueError, match="shape"):
        Slots(good, np.full((1, 4), 1e6), ones)
    env = gym.make("MecOffload-v0", n_subtasks=2, channel="iid")
    task = TaskBatch.from_state(
        {
            "cycles": [1e9, 1e9],
            "data": [1e6] * 3,
            "device_hz": 1e9,
            "edge_hz": 2e9,
            "edge_bandwidth": 1e6,
            "cloud_bandwidth": 1e6,
        }
    )
    with pytest.raises(ValueError, match="shape"):
        env.reset(
            options={
                "state": task,
                "slots": Slots(
                    np.full((1, 4), 1e6), np.full((1, 4), 1e6), np.ones((1, 4), dtype=np.int64)
                ),
            }
        )
    with pytest.raises(TypeError, match="Slots"):
        env.reset(options={"state": task, "slots": {"edge": 1}})
    with pytest.raises(ValueError, match="'slots'"):
        env.reset(options={"slots": Slots(good, good, ones)})
    static = gym.make("MecOffload-v0", n_subtasks=2)
    with pytest.raises(ValueError, match="static and reliable"):
        static.reset(options={"state": task, "slots": Slots(good, good, ones)})
    # A slot far slower than slot 0 can overflow the energy of a huge radio power: refused,
    # the slot named (slot 0's own bandwidth passes the task's energy check).
    greedy_radio = Objective("energy", tx_power=1e300)
    slow = np.array([[1e6, 1e-20, 1e6]])
    with pytest.raises(ValueError, match="slot 1 of task 0"):
        LinkCosts(task, greedy_radio, Slots(slow, good, ones))


@pytest.mark.parametrize("env_id", ["MecOffload-v0", "MecOffloadOneShot-v0"])
def test_rendering_draws_the_realised_slots(env_id):
    """The ansi table's running latency and the timeline's end are the episode's latency."""
    kwargs = {"channel": "rayleigh", "outage_probability": 0.3, "n_subtasks": 4}
    text_env = gym.make(env_id, render_mode="ansi", **kwargs)
    picture_env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    for env in (text_env, picture_env):
        env.reset(seed=6)
    action = 2 if env_id == "MecOffload-v0" else np.array([2, 1, 2, 0])
    while True:
        *_, terminated, _, info = text_env.step(action)
        picture_env.step(action)
        if terminated:
            break
    agent_columns = text_env.render().strip().splitlines()[-1].split("|")[1].split()
    assert float(agent_columns[-1]) == pytest.approx(info["latency"], abs=1e-3)
    unwrapped = picture_env.unwrapped
    segments = timeline(unwrapped.task, info["decision"], unwrapped.slots)
    assert segments[-1].end == pytest.approx(info["latency"], rel=1e-12)
    assert picture_env.render().shape == (256, 640, 3)


@pytest.mark.parametrize("channel", ["iid", "markov", "rayleigh"])
@pytest.mark.parametrize("env_id", ["MecOffload-v0", "MecOffloadOneShot-v0"])
def test_gymnasiums_checker_passes_on_every_channel(channel, env_id):
    from gymnasium.utils.env_checker import check_env

    check_env(gym.make(env_id, channel=channel, outage_probability=0.1).unwrapped)


def test_a_channel_model_made_directly_is_checked_as_build_checks_it():
    with pytest.raises(ValueError, match=r"outage_probability must be in \[0, 0\.999\]"):
        ChannelModel(as_channel("static"), 1.5, as_scenario("paper"))
    made = ChannelModel("markov", 0.1, "paper")  # names are turned into their values
    assert made == ChannelModel.build("markov", 0.1, "paper")


@pytest.mark.parametrize("n_cells", [0, -3, 20_000, "16", 2.5, True])
def test_the_mdp_experts_quadrature_size_is_checked(n_cells):
    model = ChannelModel.build("iid", 0.0, "paper")
    tasks = sample_states(2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"n_cells must be an integer in \[1, 128\]"):
        MdpExpert(tasks, model, n_cells=n_cells)
