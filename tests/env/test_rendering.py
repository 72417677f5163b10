"""Rendering of both envs, and the toolkits' rendering paths (RecordVideo, human windows)."""

import inspect
import warnings

import gymnasium as gym
import numpy as np
import pytest
from env_cases import one_task
from gymnasium.utils.env_checker import check_env

import gym_mecoffload
from gym_mecoffload.chain import rendering
from gym_mecoffload.core import rendering as drawing
from gym_mecoffload.core.topology import CLOUD, DEVICE, EDGE

ENV_IDS = sorted(gym_mecoffload.CHAIN_ENV_IDS)


def finish(env, places):
    env.reset(options={"state": one_task()})
    if isinstance(env.action_space, gym.spaces.Discrete):
        for place in places:
            *_, info = env.step(place)
    else:
        *_, info = env.step(np.array(places))
    return info


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_gymnasium_check_env_with_each_render_mode(env_id, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id, render_mode=mode)
        check_env(env.unwrapped)
        assert env.metadata["render_modes"] == ["ansi", "rgb_array"]
        assert env.metadata["render_fps"] > 0


def test_ansi_table_by_hand():
    """One subtask of 1 Gcycle, 2 MB in, 4 MB out; b1 1 MB/s, b2 0.5 MB/s, p2 2 GHz.

    On the edge: 2 s to send the input, 0.5 s to run, 4 s to return the output:
    6.5 s. The optimum is the device: nothing to send, 1 s to run.
    """
    env = gym.make("MecOffload-v0", n_subtasks=1, render_mode="ansi")
    info = finish(env, [EDGE])
    table = env.render()
    rows = [line.replace("|", " ").split() for line in table.splitlines()[3:]]
    rows = {row[0]: row for row in rows}
    assert rows["0"][3:7] == ["edge", "2.000", "0.500", "2.500"]
    assert rows["0"][-2:] == ["device", "1.000"]
    # The output has no cycles and no run time: its place, return time and total latency.
    assert rows["output"][2:5] == ["device", "4.000", "6.500"]
    assert info["latency"] == pytest.approx(6.5) and info["optimal_latency"] == pytest.approx(1.0)


def test_ansi_running_latency_ends_at_the_info_latency():
    env = gym.make("MecOffload-v0", render_mode="ansi")
    env.reset(seed=4)
    for place in (2, 0, 1, 1, 0, 2):
        *_, info = env.step(place)
    last = env.render().splitlines()[-1].replace("|", " ").split()
    assert float(last[4]) == pytest.approx(info["latency"], abs=1e-3)
    assert float(last[-1]) == pytest.approx(info["optimal_latency"], abs=1e-3)


def lane_colours(frame, top):
    """Place colours found in each lane of the panel whose title row is at ``top``."""
    found = {}
    y = top + 14
    for place in (DEVICE, EDGE, CLOUD):
        lane = frame[y : y + drawing.LANE_HEIGHT, drawing.LEFT :]
        found[place] = {
            other
            for other, colour in enumerate(drawing.PLACE_COLOURS)
            if (lane == colour).all(axis=-1).any()
        }
        y += drawing.LANE_HEIGHT + (drawing.LINK_HEIGHT + 2 if place != CLOUD else 0)
    return found


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_frame_puts_each_execution_in_its_place_lane(env_id):
    env = gym.make(env_id, n_subtasks=1, render_mode="rgb_array")
    finish(env, [CLOUD])
    frame = env.render()
    assert frame.shape == (rendering.HEIGHT, drawing.WIDTH, 3) and frame.dtype == np.uint8
    # The agent ran in the cloud; the optimum (by hand, above) on the device.
    assert lane_colours(frame, 4) == {DEVICE: set(), EDGE: set(), CLOUD: {CLOUD}}
    assert lane_colours(frame, 130) == {DEVICE: {DEVICE}, EDGE: set(), CLOUD: set()}


def test_timeline_adds_up_to_the_latency():
    task = one_task()
    segments = rendering.timeline(task, [CLOUD])
    # 2 MB device -> edge (2 s), edge -> cloud (4 s), run (0 s), 4 MB back over both links (8 + 4 s).
    assert [(s.kind, s.row) for s in segments] == [
        ("send", 0), ("send", 1), ("run", CLOUD), ("send", 1), ("send", 0)
    ]  # fmt: skip
    assert [s.end - s.start for s in segments] == pytest.approx([2.0, 4.0, 0.0, 8.0, 4.0])
    assert segments[-1].end == pytest.approx(gym_mecoffload.latency(task, [[CLOUD]])[0])


def test_render_without_a_mode_warns_and_returns_none():
    env = gym.make("MecOffload-v0").unwrapped
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="without a render_mode"):
        assert env.render() is None


def test_record_video_writes_a_video(tmp_path):
    pytest.importorskip("moviepy")
    env = gym.make("MecOffload-v0", render_mode="rgb_array")
    env = gym.wrappers.RecordVideo(env, str(tmp_path / "videos"), episode_trigger=lambda _: True)
    env.reset(seed=0)
    terminated = False
    while not terminated:
        *_, terminated, _, _ = env.step(env.action_space.sample())
    env.close()
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert videos and videos[0].stat().st_size > 1000


def test_human_mode_opens_gymnasiums_window(monkeypatch):
    pytest.importorskip("pygame")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*HumanRendering.*")
        env = gym.make("MecOffload-v0", render_mode="human")
    assert env.render_mode == "human"
    env.reset(seed=0)
    env.step(1)
    env.close()


def test_env_classes_have_explicit_keyword_signatures():
    for cls in (
        gym_mecoffload.MecOffloadEnv,
        gym_mecoffload.MecOffloadOneShotEnv,
        gym_mecoffload.MecOffloadVectorEnv,
    ):
        parameters = inspect.signature(cls).parameters
        assert {"n_subtasks", "scenario", "reward_mode", "render_mode", "task_pool"} <= set(
            parameters
        )
        assert not any(p.kind == p.VAR_KEYWORD for p in parameters.values())


def test_layout_builds_and_decodes_the_env_observation():
    layout = gym_mecoffload.SequentialLayout(4)
    assert (layout.size, layout.step_offset, layout.previous_offset) == (20, 13, 17)
    env = gym.make("MecOffload-v0", n_subtasks=4)
    observation, _ = env.reset(seed=3)
    x = gym_mecoffload.features(env.unwrapped.task)
    previous = DEVICE
    for t, place in enumerate([2, 0, 1, 1]):
        assert np.array_equal(layout.build(x, t, previous)[0], observation)
        decoded = layout.decode(observation[None])
        assert np.array_equal(decoded[0], x) and (decoded[1][0], decoded[2][0]) == (t, previous)
        observation, *_ = env.step(place)
        previous = place
    assert np.array_equal(layout.build(x, 4, previous)[0], observation)  # done: no subtask
    assert layout.decode(observation[None])[1][0] == 4
    with pytest.raises(ValueError, match=r"step must hold subtask indices .*in \[0, 4\]; got 5"):
        layout.build(x, 5, 0)
    with pytest.raises(ValueError, match=r"step must hold .*in \[0, 4\]; got -1"):
        layout.build(x, -1, 0)  # would overwrite a feature if it went through
    with pytest.raises(ValueError, match=r"previous_place must be an integer or a \(1,\) integer"):
        layout.build(x, 0, 1.0)
    with pytest.raises(ValueError, match=r"task_features must have shape \(N, 13\)"):
        layout.build(x[:, :5], 0, 0)


@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_vector_env_frames_equal_the_single_envs(mode):
    vector = gym_mecoffload.MecOffloadVectorEnv(num_envs=3, n_subtasks=4, render_mode=mode)
    vector.reset(seed=2)
    singles = [gym.make("MecOffload-v0", n_subtasks=4, render_mode=mode) for _ in range(3)]
    for i, single in enumerate(singles):
        single.reset(options={"state": vector.tasks[i]})
    for actions in ([0, 1, 2], [2, 2, 0]):
        vector.step(np.array(actions))
        for single, action in zip(singles, actions, strict=True):
            single.step(action)
        for i, (frame, single) in enumerate(zip(vector.render(), singles, strict=True)):
            expected = single.render()
            if mode == "ansi":  # the title names the env; the table below it must match
                frame, expected = frame.split("\n", 1)[1], expected.split("\n", 1)[1]
                assert f"MecOffloadVectorEnv[{i}]" in vector.render()[i]
            assert np.array_equal(frame, expected)


def test_layout_first_is_build_at_the_first_step():
    layout = gym_mecoffload.SequentialLayout(5)
    x = gym_mecoffload.features(
        gym_mecoffload.sample_states(3, n_subtasks=5, rng=np.random.default_rng(1))
    )
    for row in x:
        assert np.array_equal(layout.first(row), layout.build(row[None], 0, DEVICE)[0])
