"""Deep Imitation Learning (DIL): behaviour cloning of the exact optimum with imitation's BC.

Two views of the same problem:

* :func:`train_dil`, the paper's multi-label model (Sec. 3.3) on
  ``MecOffloadOneShot-v0``: one forward pass decides all n subtasks; the loss is
  the sum of the n heads' cross-entropy.
* :func:`train_dil_sequential` on ``MecOffload-v0``: one decision per subtask,
  demonstrations taken on the optimal path, optionally followed by DAgger
  rounds with the DP expert (:class:`OptimalExpertPolicy`), which answers in
  any state, so the policy also learns states off the optimal path.
"""

from __future__ import annotations

import math
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
from imitation.algorithms import bc
from imitation.data import types
from imitation.util import logger as imitation_logger
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy

from baselines import config
from baselines.networks import actor_critic_policy, observation_statistics, to_network_policy
from baselines.policies import Kind, NetworkPolicy
from gym_mecoffload.chain.data import OffloadDataset
from gym_mecoffload.chain.model import TaskBatch, previous_places
from gym_mecoffload.chain.observations import SequentialLayout, n_features, slot_features
from gym_mecoffload.channels import ChannelModel
from gym_mecoffload.channels.experts import MdpExpert, rollout
from gym_mecoffload.core.objective import Objective
from gym_mecoffload.solvers import optimal_next_place


@dataclass
class TrainingHistory:
    """What a training run did: the mean training loss of each epoch, and its duration."""

    epoch_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


class _LossRecorder:
    """Wraps a BC loss calculator and keeps each batch's loss for the epoch means."""

    def __init__(self, inner: Callable) -> None:
        self.inner = inner
        self.losses: list[float] = []

    def __call__(self, policy, obs, acts) -> bc.BCTrainingMetrics:
        metrics = self.inner(policy, obs, acts)
        self.losses.append(float(metrics.loss.detach()))
        return metrics


def bc_trainer(
    policy: ActorCriticPolicy,
    observations: np.ndarray,
    actions: np.ndarray,
    *,
    batch_size: int,
    learning_rate: float,
    rng: np.random.Generator,
    logdir: str,
    loss_calculator: Callable | None = None,
) -> bc.BC:
    """imitation's BC on (observation, expert action) pairs, without the entropy bonus.

    ``ent_weight=0``: this is pure imitation. ``loss_calculator`` replaces BC's
    negative log-likelihood (the KD losses plug in here).
    """
    if len(observations) < batch_size:
        raise ValueError(
            f"behaviour cloning needs at least batch_size={batch_size} samples; got {len(observations)}"
        )
    demonstrations = types.Transitions(
        obs=observations,
        acts=actions,
        infos=np.array([{}] * len(observations)),
        next_obs=observations,
        dones=np.ones(len(observations), dtype=bool),
    )
    trainer = bc.BC(
        observation_space=policy.observation_space,
        action_space=policy.action_space,
        rng=rng,
        policy=policy,
        demonstrations=demonstrations,
        batch_size=batch_size,
        ent_weight=0.0,
        optimizer_kwargs={"lr": learning_rate},
        device="cpu",
        custom_logger=imitation_logger.configure(logdir, format_strs=[]),
    )
    if loss_calculator is not None:
        trainer.loss_calculator = loss_calculator
    return trainer


def fit(
    trainer: bc.BC,
    *,
    epochs: int,
    learning_rate: float,
    progress: bool,
    history: TrainingHistory | None = None,
) -> TrainingHistory:
    """Train for ``epochs`` with a cosine-decaying learning rate, recording each epoch's mean loss."""
    history = history or TrainingHistory()
    recorder = _LossRecorder(trainer.loss_calculator)
    trainer.loss_calculator = recorder
    epoch = 0

    def end_of_epoch() -> None:
        nonlocal epoch
        epoch += 1
        history.epoch_loss.append(float(np.mean(recorder.losses)))
        recorder.losses.clear()
        for group in trainer.optimizer.param_groups:
            group["lr"] = learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))

    started = time.perf_counter()
    with warnings.catch_warnings():
        # imitation logs its loss tensors with float(); torch warns about that, harmlessly.
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True")
        trainer.train(
            n_epochs=epochs, on_epoch_end=end_of_epoch, progress_bar=progress, log_interval=10**9
        )
    trainer.loss_calculator = recorder.inner
    history.seconds += time.perf_counter() - started
    return history


def one_shot_spaces(n_subtasks: int) -> tuple[gym.spaces.Box, gym.spaces.Space]:
    env = gym.make("MecOffloadOneShot-v0", n_subtasks=n_subtasks)
    return env.observation_space, env.action_space


def sequential_spaces(n_subtasks: int) -> tuple[gym.spaces.Box, gym.spaces.Space]:
    env = gym.make("MecOffload-v0", n_subtasks=n_subtasks)
    return env.observation_space, env.action_space


def clone(
    name: str,
    kind: Kind,
    observations: np.ndarray,
    actions: np.ndarray,
    *,
    n_subtasks: int,
    hidden: tuple[int, ...],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    rng: np.random.Generator,
    progress: bool,
    loss_calculator: Callable | None = None,
    then: Callable[[bc.BC, str, TrainingHistory], None] | None = None,
    spaces: tuple[gym.spaces.Box, gym.spaces.Space] | None = None,
) -> tuple[NetworkPolicy, TrainingHistory]:
    """Behaviour-clone (observation, action) pairs into a fresh standardised MLP policy.

    ``kind`` picks the env whose spaces the policy has (``"multilabel"``: the
    one-shot env, ``"sequential"``: ``MecOffload-v0``), unless ``spaces`` gives
    another env's (then every observation column is standardised); ``then(trainer,
    scratch folder, history)`` continues training (DAgger) before the policy is frozen.
    """
    torch.manual_seed(int(rng.integers(2**31)))
    n_scaled = n_features(n_subtasks) if spaces is None else observations.shape[1]
    if spaces is None:
        spaces = (
            sequential_spaces(n_subtasks) if kind == "sequential" else one_shot_spaces(n_subtasks)
        )
    statistics = observation_statistics(observations, n_scaled)
    policy = actor_critic_policy(*spaces, hidden, statistics)
    with tempfile.TemporaryDirectory() as logdir:
        trainer = bc_trainer(
            policy,
            observations,
            actions,
            batch_size=batch_size,
            learning_rate=learning_rate,
            rng=rng,
            logdir=logdir,
            loss_calculator=loss_calculator,
        )
        history = fit(trainer, epochs=epochs, learning_rate=learning_rate, progress=progress)
        if then is not None:
            then(trainer, logdir, history)
    return to_network_policy(name, policy, kind, n_subtasks), history


def train_dil(
    dataset: OffloadDataset,
    *,
    hidden: tuple[int, ...] = config.TEACHER_HIDDEN,
    epochs: int = config.DIL_EPOCHS,
    batch_size: int = config.BC["batch_size"],
    learning_rate: float = config.BC["learning_rate"],
    rng: np.random.Generator,
    name: str = "dil",
    progress: bool = True,
) -> tuple[NetworkPolicy, TrainingHistory]:
    """The paper's multi-label DIL: BC of ``dataset``'s optimal decisions, inputs standardised."""
    return clone(
        name,
        "multilabel",
        dataset.features,
        dataset.decisions.astype(np.int64),
        n_subtasks=dataset.states.n_subtasks,
        hidden=hidden,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        rng=rng,
        progress=progress,
    )


def sequential_demonstrations(
    dataset: OffloadDataset, decisions: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``MecOffload-v0`` observations along each task's path, and the expert's actions.

    The path is ``decisions`` (N, n) if given (e.g. an MDP expert's rollout on the
    dataset's slots), else the dataset's labels. Under a fluctuating channel each
    step's observation shows that step's slot. Returns (N * n, 3n + 8) float32
    observations and (N * n,) actions.
    """
    decisions = (dataset.decisions if decisions is None else decisions).astype(np.int64)
    size, n = decisions.shape
    previous = previous_places(decisions)
    bandwidths = None
    if dataset.slots is not None:  # slot t's bandwidths when subtask t is placed
        bandwidths = slot_features(dataset.slots)[:, :n].reshape(-1, 2)
    observations = SequentialLayout(n).build(
        np.repeat(dataset.features, n, axis=0),
        np.tile(np.arange(n), size),
        previous.reshape(-1),
        bandwidths,
    )
    return observations, decisions.reshape(-1)


class OptimalExpertPolicy(BasePolicy):
    """The DP's optimal next place for any ``MecOffload-v0`` observation, as an SB3 policy.

    It rebuilds the task from the observation (float32, so exact to about 7
    digits) and answers with the DP's cost to go, also in states off the
    optimal path: the expert DAgger needs. Under a fluctuating or unreliable
    ``channel`` it answers as the channel's MDP expert
    (:class:`~gym_mecoffload.channels.experts.MdpExpert`) at the observed slot.
    """

    def __init__(
        self,
        n_subtasks: int,
        objective: str | Objective = "latency",
        channel: ChannelModel | None = None,
    ) -> None:
        observation_space, action_space = sequential_spaces(n_subtasks)
        super().__init__(observation_space, action_space)
        self.n_subtasks = n_subtasks
        self.objective = objective
        self.channel = None if channel is None or channel.fixed else channel

    def _predict(self, observation: torch.Tensor, deterministic: bool = True) -> torch.Tensor:
        obs = observation.detach().cpu().numpy().reshape(-1, self.observation_space.shape[0])
        task_features, step, previous = SequentialLayout(self.n_subtasks).decode(obs)
        tasks = TaskBatch.from_features(task_features)
        # A finished episode's observation has no current subtask; any answer will do there.
        step = np.minimum(step, self.n_subtasks - 1)
        if self.channel is not None:
            expert = MdpExpert(tasks, self.channel, self.objective)
            places = expert(step, previous, tasks.edge_bandwidth, tasks.cloud_bandwidth)
        else:
            places = optimal_next_place(tasks, step, previous, self.objective)
        return torch.as_tensor(places.astype(np.int64))


def train_dil_sequential(
    dataset: OffloadDataset,
    *,
    hidden: tuple[int, ...] = config.TEACHER_HIDDEN,
    epochs: int = config.DIL_SEQUENTIAL_EPOCHS,
    batch_size: int = config.BC["batch_size"],
    learning_rate: float = config.BC["learning_rate"],
    dagger_timesteps: int = 0,
    channel: ChannelModel | None = None,
    rng: np.random.Generator,
    name: str = "dil_seq",
    progress: bool = True,
) -> tuple[NetworkPolicy, TrainingHistory]:
    """Per-subtask DIL on ``MecOffload-v0``: BC on the expert's path, then optional DAgger.

    ``dagger_timesteps > 0`` adds imitation's ``SimpleDAggerTrainer`` rounds on
    ``dataset``'s tasks, labelled by :class:`OptimalExpertPolicy`. With a
    fluctuating or unreliable ``channel`` (the one ``dataset`` was drawn on), the
    expert is the channel's MDP expert: BC on its rollouts on the dataset's
    slots, DAgger on fresh slots of the same tasks.
    """
    expert_path = None
    if channel is not None and not channel.fixed:
        if dataset.slots is None:
            raise ValueError("a fluctuating channel needs a dataset drawn on it (with slots)")
        expert = MdpExpert(dataset.states, channel, dataset.objective)
        expert_path = rollout(dataset.states, dataset.slots, expert)
    observations, actions = sequential_demonstrations(dataset, expert_path)

    def dagger(trainer: bc.BC, scratch_dir: str, history: TrainingHistory) -> None:
        if dagger_timesteps > 0:
            _dagger(
                trainer,
                dataset,
                dagger_timesteps,
                rng,
                scratch_dir,
                history,
                learning_rate,
                channel,
            )

    return clone(
        name,
        "sequential",
        observations,
        actions,
        n_subtasks=dataset.states.n_subtasks,
        hidden=hidden,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        rng=rng,
        progress=progress,
        then=dagger,
    )


def _dagger(
    trainer: bc.BC,
    dataset: OffloadDataset,
    timesteps: int,
    rng: np.random.Generator,
    scratch_dir: str,
    history: TrainingHistory,
    learning_rate: float,
    channel: ChannelModel | None = None,
) -> None:
    import datasets
    from imitation.algorithms.dagger import SimpleDAggerTrainer
    from imitation.data.wrappers import RolloutInfoWrapper
    from stable_baselines3.common.vec_env import DummyVecEnv

    n = dataset.states.n_subtasks
    on_channel = {}
    if channel is not None:
        on_channel = {
            "scenario": channel.scenario,
            "channel": channel.channel,
            "outage_probability": channel.outage_probability,
        }
    venv = DummyVecEnv(
        [
            lambda: RolloutInfoWrapper(
                gym.make("MecOffload-v0", n_subtasks=n, task_pool=dataset.states, **on_channel)
            )
        ]
    )
    venv.seed(int(rng.integers(2**31)))
    for group in trainer.optimizer.param_groups:
        group["lr"] = learning_rate * 0.1  # fine-tune what BC learnt
    recorder = _LossRecorder(trainer.loss_calculator)
    trainer.loss_calculator = recorder
    dagger = SimpleDAggerTrainer(
        venv=venv,
        scratch_dir=scratch_dir,
        expert_policy=OptimalExpertPolicy(n, dataset.objective, channel),
        bc_trainer=trainer,
        rng=rng,
    )
    datasets.disable_progress_bars()  # DAgger saves each round through HF datasets, one bar each
    started = time.perf_counter()
    dagger.train(
        timesteps,
        rollout_round_min_timesteps=max(timesteps // 5, trainer.batch_size),
        bc_train_kwargs={"n_epochs": 2, "progress_bar": False, "log_rollouts_venv": None},
    )
    history.seconds += time.perf_counter() - started
    if recorder.losses:
        history.epoch_loss.append(float(np.mean(recorder.losses)))
    trainer.loss_calculator = recorder.inner
