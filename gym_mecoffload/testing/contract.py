"""The Gymnasium contract every registered id passes (see :mod:`gym_mecoffload.testing`)."""

from __future__ import annotations

import copy
import importlib
import inspect
import pickle
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env
from gymnasium.vector.utils import iterate

from gym_mecoffload import VECTOR_ENTRY_POINTS
from gym_mecoffload.core.envs import AUTORESET_MODES  # what ``autoreset_mode=`` takes
from gym_mecoffload.testing.comparing import assert_same, assert_same_observation

# Where a same-step autoreset puts the finished episodes: 1.x's names, then 0.29's.
_FINAL_OBS_KEYS = ("final_obs", "final_observation")
_FINAL_KEYS = (*_FINAL_OBS_KEYS, "final_info")
# gymnasium >= 1.1 declares the mode as ``metadata["autoreset_mode"]``, an enum.
_DECLARED_MODES = {"NextStep": "next_step", "SameStep": "same_step"}

ReplayOptions = Callable[[gym.vector.VectorEnv, int], dict[str, Any]]
"""``options(vector_env, index)``: the ``reset(options=...)`` under which a single env
of the family starts sub-env ``index``'s current episode, so that the same actions give
the same outputs. It is called right after the vector env has started that episode
(after ``reset`` or the step that autoreset it)."""


# --- gymnasium's checker ---------------------------------------------------------------


def check_env_contract(env_id: str, **kwargs: Any) -> None:
    """Run gymnasium's ``check_env`` on ``gym.make(env_id, **kwargs).unwrapped``, any warning
    an error.

    Rendering is left out (``skip_render_check=True``): it is each family's own test.

    Args:
        env_id: A registered id.
        **kwargs: The env's arguments.

    Raises:
        AssertionError: On a failed check or any warning, with gymnasium's message.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = None
        try:
            env = gym.make(env_id, **kwargs)
            check_env(env.unwrapped, skip_render_check=True)
        except AssertionError as error:
            raise AssertionError(f"{env_id} {kwargs}: gymnasium's check_env: {error}") from error
        except Warning as warning:
            raise AssertionError(
                f"{env_id} {kwargs}: a warning from gym.make or gymnasium's check_env "
                f"({type(warning).__name__}): {warning}"
            ) from warning
        finally:
            if env is not None:
                env.close()


# --- seeded rollouts and pickling ---------------------------------------------------------


@dataclass
class _Trace:
    """What an env gave: one record per reset and per step, copied when it was given."""

    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, label: str, **outputs: Any) -> None:
        # Copied: an env that hands out a buffer it later changes must not compare equal.
        self.records.append((label, copy.deepcopy(outputs)))


def _play(
    env: gym.Env,
    trace: _Trace,
    n_steps: int,
    actions: Sequence[Any] | None = None,
    first_step: int = 0,
) -> None:
    """Step ``env`` ``n_steps`` times (its action space's samples unless ``actions``),
    resetting it after every end, into ``trace``."""
    for k in range(n_steps):
        step = first_step + k
        action = env.action_space.sample() if actions is None else actions[k]
        observation, reward, terminated, truncated, info = env.step(action)
        for name, flag in (("terminated", terminated), ("truncated", truncated)):
            # Gymnasium allows np.bool_; `if terminated:` code does too, but `is True` does not.
            if type(flag) is not bool:
                raise AssertionError(
                    f"step {step}: {name} must be a Python bool; got "
                    f"{type(flag).__module__}.{type(flag).__qualname__} {flag!r}"
                )
        trace.add(
            f"step {step}",
            action=action,
            observation=observation,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            info=info,
        )
        if terminated or truncated:
            observation, info = env.reset()
            trace.add(f"reset after step {step}", observation=observation, info=info)


def _assert_same_traces(first: _Trace, second: _Trace, what: str) -> None:
    for (label, outputs), (other_label, other) in zip(first.records, second.records, strict=False):
        if label != other_label:
            raise AssertionError(
                f"{what}: {label!r} in the first run, {other_label!r} in the second"
            )
        for name, value in outputs.items():
            where = f"{what}: {label}: {name}"
            if name == "observation":
                assert_same_observation(value, other[name], where)
            else:
                assert_same(value, other[name], where)
    if len(first.records) != len(second.records):
        raise AssertionError(
            f"{what}: {len(first.records)} records in the first run, {len(second.records)} in the second"
        )


def _seeded_run(env: gym.Env, seed: int, n_steps: int) -> _Trace:
    trace = _Trace()
    env.action_space.seed(seed)
    observation, info = env.reset(seed=seed)
    trace.add("reset(seed)", observation=observation, info=info)
    _play(env, trace, n_steps)
    return trace


def check_seeded_determinism(env_id: str, seed: int = 0, n_steps: int = 60, **kwargs: Any) -> None:
    """Assert that a seed fixes an env's episodes: two envs made alike, reset with ``seed``,
    their action spaces seeded with it, give the same ``n_steps`` transitions (resets after
    every end included); so does the first env reseeded after its run.

    Also asserts that ``terminated`` and ``truncated`` are Python bools.

    Args:
        env_id: A registered id.
        seed: The seed of the resets and the action spaces.
        n_steps: Steps per run: enough for several episodes.
        **kwargs: The env's arguments.

    Raises:
        AssertionError: Naming the step, the output (and info key) and both values.
    """
    first, second = gym.make(env_id, **kwargs), gym.make(env_id, **kwargs)
    try:
        what = f"{env_id} {kwargs}, seed {seed}"
        trace = _seeded_run(first, seed, n_steps)
        _assert_same_traces(trace, _seeded_run(second, seed, n_steps), f"{what}, two envs")
        # Reseeding must also forget whatever the first run left behind.
        _assert_same_traces(trace, _seeded_run(first, seed, n_steps), f"{what}, reseeded")
    finally:
        first.close()
        second.close()


def check_pickle_mid_episode(
    env_id: str, seed: int = 0, n_steps: int = 40, steps_before: int = 1, **kwargs: Any
) -> None:
    """Assert that an env pickled mid-episode unpickles into one that continues exactly as
    the original: the same actions give the same transitions, and the same episodes after
    the resets that follow (the task stream is part of the state).

    Args:
        env_id: A registered id.
        seed: Seeds the first reset and the actions.
        n_steps: Steps both envs take after the pickling.
        steps_before: Steps taken before pickling (after an end the env is reset first, so
            a one-step episode is pickled at its start).
        **kwargs: The env's arguments.

    Raises:
        AssertionError: Naming the step, the output (and info key) and both values.
    """
    env = gym.make(env_id, **kwargs)
    clone = None
    try:
        env.action_space.seed(seed)
        actions = [env.action_space.sample() for _ in range(steps_before + n_steps)]
        env.reset(seed=seed)
        _play(env, _Trace(), steps_before, actions[:steps_before])
        clone = pickle.loads(pickle.dumps(env))
        traces = (_Trace(), _Trace())
        for played, trace in zip((env, clone), traces, strict=True):
            _play(played, trace, n_steps, actions[steps_before:], first_step=steps_before)
        _assert_same_traces(*traces, f"{env_id} {kwargs}: the original against its pickled clone")
    finally:
        env.close()
        if clone is not None:
            clone.close()


# --- the native vector env against single envs -----------------------------------------


def _own_replay_options(vector: gym.vector.VectorEnv, index: int) -> dict[str, Any]:
    return vector.replay_options(index)


def _load(entry_point: str | Callable[..., gym.vector.VectorEnv]) -> Callable[..., Any]:
    if callable(entry_point):
        return entry_point
    module, _, name = entry_point.partition(":")
    return getattr(importlib.import_module(module), name)


def _registered_vector_entry_point(env_id: str) -> str | None:
    found = VECTOR_ENTRY_POINTS.get(env_id)
    registered = getattr(gym.spec(env_id), "vector_entry_point", None)
    if found is not None and registered is not None and registered != found:
        raise AssertionError(
            f"{env_id} is registered with vector_entry_point {registered!r}, but "
            f"gym_mecoffload.VECTOR_ENTRY_POINTS names {found!r}"
        )
    return found if found is not None else registered


def _accepts(factory: Callable[..., Any], name: str) -> bool:
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # no signature to read: do not guess
        return False
    return name in parameters and parameters[name].kind is not inspect.Parameter.VAR_KEYWORD


def _info_at(info: Mapping[str, Any], index: int) -> dict[str, Any]:
    """Sub-env ``index``'s part of a vector env's batched info (keys whose ``_key`` mask is
    set there; nested dicts likewise), as a single env's info."""
    found = {}
    for key, value in info.items():
        if isinstance(key, str) and key.startswith("_") and key[1:] in info:
            continue  # a mask
        mask = info.get(f"_{key}")
        if mask is not None and not mask[index]:
            continue
        found[key] = _info_at(value, index) if isinstance(value, Mapping) else value[index]
    return found


def _declared_mode(vector: gym.vector.VectorEnv) -> str | None:
    declared = vector.metadata.get("autoreset_mode")
    if declared is None:
        return None
    return _DECLARED_MODES.get(getattr(declared, "value", declared), str(declared))


def check_vector_matches_single(
    env_id: str,
    num_envs: int = 3,
    seed: int = 0,
    n_steps: int = 40,
    *,
    vector_entry_point: str | Callable[..., gym.vector.VectorEnv] | None = None,
    replay_options: ReplayOptions | None = None,
    **kwargs: Any,
) -> None:
    """Assert that each sub-env of the family's native vector env is a single env: the same
    observations (bytes), rewards, ``terminated``, ``truncated`` and infos (final infos
    included), given the same task and actions, across autoresets.

    The vector env is ``vector_entry_point(num_envs=num_envs, **kwargs)``; if its class
    takes ``autoreset_mode``, once per mode of :data:`AUTORESET_MODES`, else in its own
    mode, told apart by the finished episodes' keys (``final_obs`` / ``final_observation``
    mean same-step) and checked against ``metadata["autoreset_mode"]`` where declared.
    Single env ``i`` is ``gym.make(env_id, **kwargs)``, reset with ``replay_options``
    at each of sub-env ``i``'s episode starts.

    Args:
        env_id: A registered id.
        num_envs: Sub-envs.
        seed: Seeds the vector env's reset and its action space.
        n_steps: Vector steps: enough for several episodes.
        vector_entry_point: The vector env class or its ``"module:Class"``; by default
            ``gym_mecoffload.VECTOR_ENTRY_POINTS[env_id]`` (which must agree with the
            registered ``vector_entry_point``), else the registered one.
        replay_options: How a single env replays a sub-env; by default the vector env's
            own ``replay_options(i)`` (every family on the core's adapters has it).
        **kwargs: The env's arguments, for the vector env and the single envs alike.

    Raises:
        AssertionError: Naming the mode, step, sub-env, output (and key) and both values.
        ValueError: If there is no vector entry point or no replay options for ``env_id``.
    """
    entry_point = vector_entry_point or _registered_vector_entry_point(env_id)
    if entry_point is None:
        raise ValueError(f"{env_id} has no vector entry point to check")
    factory = _load(entry_point)
    options = replay_options
    if options is None:
        if not callable(getattr(factory, "replay_options", None)):
            raise ValueError(
                f"no replay options for {env_id}: its vector env has no replay_options(i) "
                "(gym_mecoffload.core.envs.EpisodesVectorEnv's) and none were given"
            )
        options = _own_replay_options
    modes = AUTORESET_MODES if _accepts(factory, "autoreset_mode") else (None,)
    for mode in modes:
        extra = {} if mode is None else {"autoreset_mode": mode}
        vector = factory(num_envs=num_envs, **kwargs, **extra)
        singles = [gym.make(env_id, **kwargs) for _ in range(num_envs)]
        what = f"{env_id} {kwargs}, {type(vector).__name__}" + ("" if mode is None else f" {mode}")
        try:
            _compare_vector(vector, singles, options, seed, n_steps, mode, what)
        finally:
            vector.close()
            for single in singles:
                single.close()


def _compare_vector(
    vector: gym.vector.VectorEnv,
    singles: list[gym.Env],
    options: ReplayOptions,
    seed: int,
    n_steps: int,
    mode: str | None,
    what: str,
) -> None:
    """Step ``vector`` ``n_steps`` times on its seeded action space's samples, each single env
    alongside on its sub-env's action, and compare every output."""
    num_envs = len(singles)
    declared = _declared_mode(vector)
    if mode is not None and declared is not None and declared != mode:
        raise AssertionError(f"{what}: metadata declares autoreset_mode {declared!r}, not {mode!r}")
    vector.action_space.seed(seed)
    observations, info = vector.reset(seed=seed)
    for i, observation in enumerate(iterate(vector.observation_space, observations)):
        where = f"{what}: reset, sub-env {i}"
        _replay_reset(singles[i], vector, i, observation, _info_at(info, i), options, where)
    pending = [False] * num_envs  # next-step autoreset: the sub-env's next step resets it
    for step in range(n_steps):
        actions = vector.action_space.sample()
        observations, rewards, terminated, truncated, info = vector.step(actions)
        for name, flags in (("terminated", terminated), ("truncated", truncated)):
            if not (isinstance(flags, np.ndarray) and flags.dtype == bool):
                raise AssertionError(f"{what}: step {step}: {name} must be a bool array: {flags!r}")
        sub_actions = list(iterate(vector.action_space, actions))
        sub_observations = list(iterate(vector.observation_space, observations))
        for i, single in enumerate(singles):
            where = f"{what}: step {step}, sub-env {i}"
            sub_info = _info_at(info, i)
            finals = {key: sub_info.pop(key) for key in _FINAL_KEYS if key in sub_info}
            outputs = (sub_observations[i], rewards[i], terminated[i], truncated[i], sub_info)
            if pending[i]:
                _check_next_step_reset(single, vector, i, outputs, finals, options, where)
                pending[i] = False
            elif _check_step(single, sub_actions[i], outputs, finals, where):
                if _autoreset_seen(finals, mode, declared, where) == "next_step":
                    pending[i] = True
                else:  # the sub-env is already in its next episode
                    where = f"{where}, autoreset"
                    _replay_reset(single, vector, i, outputs[0], sub_info, options, where)


def _autoreset_seen(
    finals: dict[str, Any], mode: str | None, declared: str | None, where: str
) -> str:
    """The autoreset mode an episode's end shows (a final observation: same-step), checked
    against the one asked for and the one declared."""
    seen = "same_step" if any(key in finals for key in _FINAL_OBS_KEYS) else "next_step"
    for expected, source in ((mode, "was asked for"), (declared, "is declared")):
        if expected is not None and seen != expected:
            raise AssertionError(f"{where}: a {seen} autoreset, but {expected} {source}")
    return seen


def _check_step(
    single: gym.Env,
    action: Any,
    outputs: tuple[Any, Any, Any, Any, dict[str, Any]],
    finals: dict[str, Any],
    where: str,
) -> bool:
    """Step ``single`` and compare with a sub-env's step; returns whether the episode ended.

    A same-step autoreset (``finals`` holds the final observation) compares the single
    env's last outputs with the finished episode's and leaves the new episode's reset
    to the caller."""
    observation, reward, terminated, truncated, info = outputs
    single_observation, single_reward, ended, cut, single_info = single.step(action)
    _assert_same_scalars(where, (reward, terminated, truncated), (single_reward, ended, cut))
    if not (ended or cut):
        if finals:
            raise AssertionError(f"{where}: {sorted(finals)} for an episode still running")
    elif any(key in finals for key in _FINAL_OBS_KEYS):
        observation = next(finals[key] for key in _FINAL_OBS_KEYS if key in finals)
        if "final_info" not in finals:
            raise AssertionError(f"{where}: a final observation without a final_info")
        info = finals["final_info"]
    final = "final " if ended or cut else ""
    assert_same_observation(
        observation, single_observation, f"{where}: {final}observation", strict_types=False
    )
    assert_same(info, single_info, f"{where}: {final}info", strict_types=False)
    return bool(ended or cut)


def _check_next_step_reset(
    single: gym.Env,
    vector: gym.vector.VectorEnv,
    index: int,
    outputs: tuple[Any, Any, Any, Any, dict[str, Any]],
    finals: dict[str, Any],
    options: ReplayOptions,
    where: str,
) -> None:
    """The step after an end under next-step autoreset: the sub-env's reset (its action
    ignored), reward 0, neither terminated nor truncated."""
    observation, reward, terminated, truncated, info = outputs
    _assert_same_scalars(where, (reward, terminated, truncated), (0.0, False, False))
    if finals:
        raise AssertionError(f"{where}: {sorted(finals)} at a next-step autoreset")
    _replay_reset(single, vector, index, observation, info, options, f"{where}, autoreset")


def _replay_reset(
    single: gym.Env,
    vector: gym.vector.VectorEnv,
    index: int,
    observation: Any,
    info: dict[str, Any],
    options: ReplayOptions,
    where: str,
) -> None:
    single_observation, single_info = single.reset(options=options(vector, index))
    assert_same_observation(
        observation, single_observation, f"{where}: observation", strict_types=False
    )
    assert_same(info, single_info, f"{where}: reset info", strict_types=False)


def _assert_same_scalars(
    where: str, vector_values: tuple[Any, Any, Any], single_values: tuple[Any, Any, Any]
) -> None:
    """A sub-env's reward, terminated and truncated against the single env's, by value."""
    names = ("reward", "terminated", "truncated")
    for name, got, expected in zip(names, vector_values, single_values, strict=True):
        got, expected = (v.item() if isinstance(v, np.generic) else v for v in (got, expected))
        if name != "reward":
            got, expected = bool(got), bool(expected)
        if got != expected:
            raise AssertionError(
                f"{where}: {name} {got!r} in the vector env, {expected!r} in the single env"
            )


# --- everything ----------------------------------------------------------------------------


def check_all(
    env_id: str, seed: int = 0, n_steps: int = 60, num_envs: int = 3, **kwargs: Any
) -> None:
    """Run every check of this module on ``env_id`` with the env arguments ``kwargs``: the
    checker, seeded determinism, pickling mid-episode and, where the id has a vector entry
    point, the vector env against single envs.

    Args:
        env_id: A registered id (any of ``gym_mecoffload.ENV_IDS``, or another family's).
        seed: The seed of every check.
        n_steps: Steps per rollout: enough for several episodes.
        num_envs: Sub-envs of the vector check.
        **kwargs: The env's arguments.

    Raises:
        AssertionError: The first breach, as the failing check words it.
    """
    check_env_contract(env_id, **kwargs)
    check_seeded_determinism(env_id, seed, n_steps, **kwargs)
    check_pickle_mid_episode(env_id, seed, n_steps, **kwargs)
    if _registered_vector_entry_point(env_id) is not None:
        check_vector_matches_single(env_id, num_envs, seed, n_steps, **kwargs)
