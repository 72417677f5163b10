"""Learning to offload among many users: one policy shared by every user.

Two views of a decision (:data:`VIEWS`): ``"local"``, the user's local observation at the
slot's start (``gym_mecoffload.multi.observations``: what its device knows), and
``"central"``, a dispatcher placing the slot's tasks one at a time, each from
:func:`position_features` (the queues as the earlier placements left them and what each
place would cost), as the family's sequential experts do.

* :func:`train_dil`: behaviour cloning of an expert (``exact`` on the tiny tier, ``rollout``
  or another causal expert elsewhere) on the expert's own episodes, then DAgger rounds in
  which the expert labels the states the learner visits (every causal expert answers in
  any state), in either view;
* :func:`train_sb3`: SB3's PPO or DQN with shared parameters, on the VecEnv over users;
* :func:`distill_student`: the paper's 2 x 32 student per device on the local view,
  distilled from a teacher network (either view) with the paper's softened labels on
  states the teacher visits (no expert needed).

Every learner returns a :class:`UserPolicy` (or its central :class:`DispatcherPolicy`):
``policy(core) -> places`` like the family's experts, so the same evaluation runs them all.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import DQN, PPO
from torch import nn

from baselines import config
from baselines.dil import TrainingHistory, bc_trainer, fit
from baselines.multi_vec_env import MultiUserVecEnv
from baselines.networks import (
    StandardizeExtractor,
    actor_as_sequential,
    actor_critic_policy,
    learn_quietly,
    observation_statistics,
)
from baselines.policies import Standardize, mlp, numpy_layers, numpy_scores
from gym_mecoffload.core.checks import GIGA, check_count
from gym_mecoffload.core.episodes import OBS_HIGH
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.multi.core import MultiCore, OpenSlot
from gym_mecoffload.multi.experts import TIME, Sequential
from gym_mecoffload.multi.model import MultiScenario, draw_episodes
from gym_mecoffload.multi.observations import local_observations, local_size

Policy = Callable[[MultiCore], np.ndarray]


class UserPolicy:
    """A network shared by every user: scores the places of a user's task from its local
    observation (numpy forward pass); users without a task get place 0."""

    def __init__(self, name: str, net: nn.Sequential) -> None:
        self.name = name
        self.net = net.eval()
        self._layers = numpy_layers(net)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def scores(self, observations: np.ndarray) -> np.ndarray:
        """(N, 1 + 2S) scores of (N, 10 + 6S) local observations."""
        return numpy_scores(self._layers, observations)

    def __call__(self, core: MultiCore) -> np.ndarray:
        observations = local_observations(core)
        B, U, width = observations.shape
        places = self.scores(observations.reshape(-1, width)).argmax(axis=-1).reshape(B, U)
        return np.where(observations[..., 0] > 0, places, 0)

    def __repr__(self) -> str:
        return f"UserPolicy({self.name!r}, {self.n_parameters} parameters)"


def position_size(servers: int) -> int:
    """Entries of the dispatcher's features of one position (:func:`position_features`)."""
    return local_size(servers) + 2 * (1 + 2 * servers) + 2


def position_features(plan: MultiCore, slot: OpenSlot, i: int) -> np.ndarray:
    """(B, 14 + 10S) what the central dispatcher sees when it places position ``i`` of the
    slot, the earlier positions booked on ``plan``: the user's local observation on the
    queues as booked so far; for each place its cost to this task under the objective (the
    objective's unit; weighted latency for ``aoi``) and the seconds of work it adds to the
    place's queue (device CPU; upload plus edge run; upload to the cloud), in slots; then the
    tasks left in the slot after this one and their cycles (Gcycles)."""
    bi = np.arange(plan.size)
    user = slot.seq[:, i]
    own = local_observations(plan)[bi, user]
    dt = plan.scenario.slot_seconds
    costs, work = [], []
    for p in range(plan.scenario.n_places):
        booking = plan.evaluate(slot, i, np.full(plan.size, p))
        costs.append(plan.booking_cost(slot, booking))
        times = np.nan_to_num(booking.times)
        device = times[:, TIME["device_end"]] - times[:, TIME["device_start"]]
        upload = times[:, TIME["upload_end"]] - times[:, TIME["upload_start"]]
        run = times[:, TIME["run_end"]] - times[:, TIME["run_start"]]
        work.append((device + upload + run) / dt)
    later = np.arange(slot.seq.shape[1])[None, :] > i
    left = later & slot.by_position["has_task"]
    rest = np.stack(
        [left.sum(axis=1), np.where(left, slot.by_position["cycles"], 0.0).sum(axis=1) / GIGA],
        axis=-1,
    )
    return np.concatenate(
        [own, np.stack(costs, axis=-1), np.stack(work, axis=-1), rest], axis=-1
    ).astype(np.float32)


class DispatcherPolicy(UserPolicy, Sequential):
    """The central variant: a dispatcher that places the slot's tasks in placement order,
    each from :func:`position_features` (the queues as the earlier placements left them and
    what each place would cost), as the sequential experts do; users without a task get
    place 0."""

    __call__ = Sequential.__call__

    def choose(self, plan: MultiCore, slot: OpenSlot, i: int) -> np.ndarray:
        return self.scores(position_features(plan, slot, i)).argmax(axis=-1)

    def __repr__(self) -> str:
        return f"DispatcherPolicy({self.name!r}, {self.n_parameters} parameters)"


VIEWS = ("local", "central")


def spaces_of(
    scenario: MultiScenario, view: str = "local"
) -> tuple[gym.spaces.Box, gym.spaces.Discrete]:
    """A user's observation and action spaces (``"local"``), or the dispatcher's for one
    position (``"central"``: :func:`position_features`)."""
    size = position_size(scenario.servers) if view == "central" else local_size(scenario.servers)
    box = gym.spaces.Box(0.0, OBS_HIGH, (size,), np.float32)
    return box, gym.spaces.Discrete(scenario.n_places)


class States(NamedTuple):
    """Labelled states: what the learner sees (K, F), the places (K,), and the user's
    local observation at the slot's start (K, 10 + 6S): the same as ``observations`` for
    the local view, what an on-device student sees for the central one."""

    observations: np.ndarray
    labels: np.ndarray
    local: np.ndarray


def labelled_states(
    scenario: MultiScenario,
    actor: Policy,
    expert: Policy | None,
    episodes: int,
    rng: np.random.Generator,
    objective: str = "latency",
    view: str = "local",
) -> States:
    """Play ``episodes`` seeded episodes with ``actor``; return every task's state with
    ``expert``'s place for it (the actor's own where ``expert`` is None). The local view's
    state is the user's local observation; the central view's is
    :func:`position_features` at the task's position, the slot's earlier positions booked
    on ``expert``'s places (the expert decides the whole slot; the actor the next slots)."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}; got {view!r}")
    core = MultiCore(scenario, objective, Objective(), episodes)
    core.reset(draw_episodes(scenario, episodes, rng))
    bi = np.arange(episodes)
    observations, labels, local = [], [], []
    while not core.done.any():
        start = local_observations(core)
        acted = actor(core)
        labelled = np.asarray(acted if expert is None or expert is actor else expert(core))
        if view == "central":
            plan = core.copy()
            slot = plan.open_slot()
            for i in range(int(slot.count.max(initial=0))):
                active = slot.by_position["has_task"][:, i]
                user = slot.seq[:, i]
                observations.append(position_features(plan, slot, i)[active])
                labels.append(labelled[bi, user][active])
                local.append(start[bi, user][active])
                plan.commit(slot, plan.evaluate(slot, i, labelled[bi, user]))
        else:
            has = core.current()["has_task"]
            observations.append(start[has])
            labels.append(labelled[has])
        core.step(acted)
    observations = np.concatenate(observations)
    labels = np.concatenate(labels).astype(np.int64)
    return States(observations, labels, np.concatenate(local) if local else observations)


@dataclass
class DilHistory(TrainingHistory):
    """BC's epoch losses and seconds, and the samples after each DAgger round."""

    samples: list[int] | None = None


def train_dil(
    scenario: MultiScenario,
    expert: Policy,
    *,
    episodes: int,
    dagger_rounds: int = 2,
    dagger_episodes: int | None = None,
    hidden: tuple[int, ...] = config.MULTI_HIDDEN,
    epochs: int = 20,
    batch_size: int = config.BC["batch_size"],
    learning_rate: float = config.BC["learning_rate"],
    rng: np.random.Generator,
    name: str = "dil",
    objective: str = "latency",
    view: str = "local",
    progress: bool = False,
) -> tuple[UserPolicy, DilHistory]:
    """Behaviour cloning of ``expert`` on ``episodes`` of its own episodes, then
    ``dagger_rounds`` rounds in which the learner plays ``dagger_episodes`` episodes and the
    expert labels every state it visits; each round refits on all the data so far.
    ``view="central"`` learns the dispatcher that places the slot's tasks in turn from
    :func:`position_features` instead (:class:`DispatcherPolicy`)."""
    policy_class = DispatcherPolicy if view == "central" else UserPolicy
    episodes = check_count("episodes", episodes, 1)
    dagger_rounds = check_count("dagger_rounds", dagger_rounds, 0)
    dagger_episodes = episodes if dagger_episodes is None else dagger_episodes
    torch.manual_seed(int(rng.integers(2**31)))
    observations, actions, _ = labelled_states(
        scenario, expert, expert, episodes, rng, objective, view
    )
    statistics = observation_statistics(observations, observations.shape[1])
    network = actor_critic_policy(*spaces_of(scenario, view), hidden, statistics)
    history = DilHistory(samples=[len(actions)])
    with tempfile.TemporaryDirectory() as logdir:
        for round_ in range(dagger_rounds + 1):
            if round_ > 0:
                learner = policy_class(name, actor_as_sequential(network))
                more_obs, more_acts, _ = labelled_states(
                    scenario, learner, expert, dagger_episodes, rng, objective, view
                )
                observations = np.concatenate([observations, more_obs])
                actions = np.concatenate([actions, more_acts])
                history.samples.append(len(actions))
            trainer = bc_trainer(
                network,
                observations,
                actions,
                batch_size=min(batch_size, len(actions)),
                learning_rate=learning_rate,
                rng=rng,
                logdir=logdir,
            )
            fit(
                trainer,
                epochs=epochs,
                learning_rate=learning_rate,
                progress=progress,
                history=history,
            )
    return policy_class(name, actor_as_sequential(network)), history


def train_sb3(
    scenario: MultiScenario,
    algorithm: str,
    *,
    timesteps: int,
    hidden: tuple[int, ...] = config.MULTI_HIDDEN,
    systems: int = config.MULTI_SYSTEMS,
    reward_mode: str = "absolute",
    objective: str = "latency",
    rng: np.random.Generator,
    progress: bool = False,
) -> tuple[UserPolicy, TrainingHistory]:
    """SB3's ``"ppo"`` or ``"dqn"`` with one network shared by every user of ``systems``
    systems (``timesteps`` user-decisions); returns its greedy policy."""
    if algorithm not in ("ppo", "dqn"):
        raise ValueError(f"algorithm must be 'ppo' or 'dqn'; got {algorithm!r}")
    timesteps = check_count("timesteps", timesteps, 1)
    seed = int(rng.integers(2**31))
    env = MultiUserVecEnv(
        systems, seed=seed, scenario=scenario, objective=objective, reward_mode=reward_mode
    )
    # Standardise with the statistics of states a random dispatcher visits.
    sample = labelled_states(scenario, _random(rng), None, 16, rng).observations
    statistics = observation_statistics(sample, sample.shape[1])
    extractor = {
        "features_extractor_class": StandardizeExtractor,
        "features_extractor_kwargs": statistics,
        "activation_fn": nn.ReLU,
    }
    if algorithm == "ppo":
        model = PPO(
            "MlpPolicy",
            env,
            **config.MULTI_PPO,
            policy_kwargs={"net_arch": {"pi": list(hidden), "vf": list(hidden)}, **extractor},
            seed=seed,
            device="cpu",
            verbose=0,
        )
    else:
        model = DQN(
            "MlpPolicy",
            env,
            **config.MULTI_DQN,
            policy_kwargs={"net_arch": list(hidden), **extractor},
            seed=seed,
            device="cpu",
            verbose=0,
        )
    seconds = learn_quietly(model, timesteps, progress=progress)
    if algorithm == "ppo":
        net = actor_as_sequential(model.policy)
    else:
        q_net = model.q_net
        net = copy.deepcopy(nn.Sequential(q_net.features_extractor.standardize, *q_net.q_net)).cpu()
    return UserPolicy(algorithm, net), TrainingHistory(seconds=seconds)


def _random(rng: np.random.Generator) -> Policy:
    def policy(core: MultiCore) -> np.ndarray:
        return rng.integers(0, core.scenario.n_places, size=(core.size, core.scenario.users))

    return policy


def distill_student(
    teacher: UserPolicy,
    scenario: MultiScenario,
    *,
    episodes: int,
    hidden: tuple[int, ...] = config.STUDENT_HIDDEN,
    temperature: float = config.TEMPERATURE,
    epochs: int = 30,
    batch_size: int = 256,
    learning_rate: float = 2e-3,
    rng: np.random.Generator,
    name: str = "kd_student",
    objective: str = "latency",
) -> tuple[UserPolicy, TrainingHistory]:
    """The paper's KD: a ``hidden`` student on the user's local observation, fitted to the
    teacher's softened distribution ``softmax(log p / T)`` (the paper's Sec. 4, T = 5) on
    the states the teacher visits in ``episodes`` episodes (cross-entropy to the soft
    labels). A :class:`DispatcherPolicy` teacher scores each task from its central view;
    the student sees only the local observation its device has at the slot's start."""
    started = time.perf_counter()
    torch.manual_seed(int(rng.integers(2**31)))
    view = "central" if isinstance(teacher, DispatcherPolicy) else "local"
    seen, _, observations = labelled_states(scenario, teacher, None, episodes, rng, objective, view)
    logits = torch.as_tensor(teacher.scores(seen), dtype=torch.float32)
    soft = torch.softmax(torch.log_softmax(logits, dim=-1) / temperature, dim=-1)
    x = torch.as_tensor(observations)
    student = nn.Sequential(
        Standardize.fit(observations), *mlp(observations.shape[1], hidden, scenario.n_places)
    )
    optimiser = torch.optim.Adam(student.parameters(), lr=learning_rate)
    history = TrainingHistory()
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        losses = []
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]
            loss = -(soft[batch] * torch.log_softmax(student(x[batch]), dim=-1)).sum(-1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
        history.epoch_loss.append(float(np.mean(losses)))
    history.seconds = time.perf_counter() - started
    return UserPolicy(name, student), history
