"""Knowledge distillation (KD-DIL): compress a DIL teacher into a small student.

:func:`distill` trains a small multi-label MLP (2 x 32 ReLU by default, paper
Sec. 5.2) on the teacher's soft labels, as a loss plugged into imitation's BC.
Every loss works per subtask head on logits of shape (B, n, 3), sums over the
heads (as BC's multi-label negative log-likelihood does) and averages over the
batch. ``z_s``, ``z_t``: student and teacher logits; ``y``: hard labels (the
optimal places); ``T``: temperature; ``p^T = softmax(z / T)``.

* ``paper`` (Chen et al., Sec. 4): the student is trained on the softened
  labels ``q_i = exp(ln(p_i) / T) / sum_j exp(ln(p_j) / T)`` with cross-entropy
  ``-sum_i q_i log softmax(z_s)_i``. Since ``ln softmax(z)`` differs from ``z``
  by a constant, ``q = softmax(z_t / T)``: computed from logits, it cannot
  underflow to ``log(0)``.
* ``hinton`` (Hinton, Vinyals, Dean 2015, arXiv:1503.02531):
  ``alpha * T^2 * KL(p_t^T || p_s^T) + (1 - alpha) * CE(y, softmax(z_s))``.
* ``dkd`` (Decoupled KD, Zhao et al., CVPR 2022): ``T^2 * (alpha * TCKD + beta *
  NCKD)``, TCKD the KL between the binary (target, rest) distributions of
  teacher and student, NCKD the KL between their distributions over the
  non-target classes alone; the target is ``y``.
* ``bdd`` (Balance Divergence Distillation, arXiv:2501.07804): forward KL plus
  a reverse-KL term, ``T^2 * (KL(p_t^T || p_s^T) + beta * KL(p_s^T || p_t^T))``;
  the reverse term weighs the classes the teacher gives tiny probabilities.

Augmentation (``augment``): the teacher can label any state, so the student
need not see only its N training states. Each batch is replaced by synthetic
states built from it, and the teacher labels them as the student sees them
("function matching", Beyer et al., CVPR 2022, arXiv:2106.05237); the hard
labels of ``hinton`` and ``dkd`` are then the teacher's decisions.

* ``recombine``: every feature (column) of a synthetic state is taken from an
  independently drawn state of the batch, so each value is a real one.
* ``mixup``: a random convex combination of two states of the batch
  (Zhang et al., ICLR 2018), weight ~ U(0, 1) per state.
* ``none``: the paper's recipe, the N states as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import numpy as np
import torch
import torch.nn.functional as F
from imitation.algorithms import bc

from baselines import config
from baselines.dil import TrainingHistory, clone
from baselines.policies import NetworkPolicy
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.chain.observations import features
from gym_mecoffload.core.topology import N_PLACES

LOSSES = ("paper", "hinton", "dkd", "bdd")
Augmentation = Literal["none", "recombine", "mixup"]
AUGMENTATIONS: tuple[str, ...] = get_args(Augmentation)


def soft_labels(teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """The paper's softened labels ``softmax(ln p / T)``, computed as ``softmax(z / T)``."""
    return F.softmax(teacher_logits / temperature, dim=-1)


def _kl(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) over the last axis, from log-probabilities."""
    return (log_p.exp() * (log_p - log_q)).sum(dim=-1)


def _per_task(per_head: torch.Tensor) -> torch.Tensor:
    """Sum over subtask heads, mean over the batch."""
    return per_head.sum(dim=-1).mean()


def paper_loss(
    student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Cross-entropy of the student against the paper's softened teacher labels."""
    q = soft_labels(teacher, temperature)
    return _per_task(-(q * F.log_softmax(student, dim=-1)).sum(dim=-1))


def hinton_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    labels: torch.Tensor,
    temperature: float,
    alpha: float = config.KD["hinton_alpha"],
) -> torch.Tensor:
    """Hinton et al.'s T^2-scaled soft KL mixed with the hard-label cross-entropy."""
    soft = _kl(F.log_softmax(teacher / temperature, -1), F.log_softmax(student / temperature, -1))
    hard = F.cross_entropy(student.reshape(-1, N_PLACES), labels.reshape(-1), reduction="none")
    return alpha * temperature**2 * _per_task(soft) + (1 - alpha) * _per_task(
        hard.view(labels.shape)
    )


def dkd_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    labels: torch.Tensor,
    temperature: float,
    alpha: float = config.KD["dkd_alpha"],
    beta: float = config.KD["dkd_beta"],
) -> torch.Tensor:
    """Decoupled KD: target-class and non-target-class KL, weighted apart."""
    target = F.one_hot(labels, N_PLACES).bool()
    p_s = F.softmax(student / temperature, -1)
    p_t = F.softmax(teacher / temperature, -1)
    eps = torch.finfo(p_s.dtype).tiny

    def binary(p: torch.Tensor) -> torch.Tensor:
        p_target = (p * target).sum(-1, keepdim=True)
        return torch.cat([p_target, 1 - p_target], dim=-1).clamp_min(eps).log()

    tckd = _kl(binary(p_t), binary(p_s))
    # Non-target distribution: the target's logit pushed to -inf before the softmax.
    hide = torch.where(
        target, torch.tensor(-1e9, dtype=student.dtype), torch.tensor(0.0, dtype=student.dtype)
    )
    log_nt_s = F.log_softmax(student / temperature + hide, -1)
    log_nt_t = F.log_softmax(teacher / temperature + hide, -1)
    nckd = (log_nt_t.exp() * (log_nt_t - log_nt_s)).masked_fill(target, 0.0).sum(-1)
    return temperature**2 * _per_task(alpha * tckd + beta * nckd)


def bdd_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    labels: torch.Tensor,
    temperature: float,
    beta: float = config.KD["bdd_beta"],
) -> torch.Tensor:
    """Forward KL plus beta times reverse KL, both at temperature T, scaled by T^2."""
    log_t = F.log_softmax(teacher / temperature, -1)
    log_s = F.log_softmax(student / temperature, -1)
    return temperature**2 * _per_task(_kl(log_t, log_s) + beta * _kl(log_s, log_t))


LOSS_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "paper": paper_loss,
    "hinton": hinton_loss,
    "dkd": dkd_loss,
    "bdd": bdd_loss,
}


def recombine(observations: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Synthetic states: each column taken from an independently drawn row of ``observations``."""
    rows = torch.randint(len(observations), observations.shape, generator=generator)
    return torch.gather(observations, 0, rows)


def mixup(observations: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Synthetic states: each row mixed with a random partner row, weight ~ U(0, 1)."""
    weight = torch.rand(len(observations), 1, generator=generator, dtype=observations.dtype)
    partner = observations[torch.randperm(len(observations), generator=generator)]
    return weight * observations + (1 - weight) * partner


AUGMENT_FUNCTIONS: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "recombine": recombine,
    "mixup": mixup,
}


def head_logits(policy, observations: torch.Tensor, n_subtasks: int) -> torch.Tensor:
    """Per-subtask logits (B, n, 3) of an SB3 multi-label actor-critic policy."""
    latent = policy.mlp_extractor.forward_actor(policy.extract_features(observations))
    return policy.action_net(latent).view(-1, n_subtasks, N_PLACES)


class DistillationLoss:
    """A BC loss calculator: the student's KD loss against a frozen teacher's logits.

    With ``augment`` other than ``"none"``, each batch is first replaced by
    synthetic states drawn with ``generator``, and the hard labels become the
    teacher's decisions on them.
    """

    def __init__(
        self,
        teacher: NetworkPolicy,
        loss: str,
        temperature: float,
        augment: Augmentation = "none",
        generator: torch.Generator | None = None,
    ) -> None:
        if loss not in LOSS_FUNCTIONS:
            raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
        if not temperature >= 1:
            raise ValueError(
                f"temperature must be >= 1 (the paper's constraint); got {temperature!r}"
            )
        if augment not in AUGMENTATIONS:
            raise ValueError(f"augment must be one of {AUGMENTATIONS}; got {augment!r}")
        self.teacher = teacher.net
        self.n_subtasks = teacher.n_subtasks
        self.loss = LOSS_FUNCTIONS[loss]
        self.temperature = temperature
        self.augment = AUGMENT_FUNCTIONS.get(augment)
        self.generator = generator if generator is not None else torch.Generator()

    def __call__(self, policy, obs, acts) -> bc.BCTrainingMetrics:
        obs = torch.as_tensor(obs, dtype=torch.float32)
        if self.augment is not None:
            obs = self.augment(obs, self.generator)
        with torch.no_grad():
            teacher = self.teacher(obs).view(-1, self.n_subtasks, N_PLACES)
        if self.augment is None:
            labels = torch.as_tensor(acts, dtype=torch.long).view(-1, self.n_subtasks)
        else:
            labels = teacher.argmax(-1)
        student = head_logits(policy, obs, self.n_subtasks)
        loss = self.loss(student, teacher, labels, self.temperature)
        zero = torch.zeros(())
        agree = (student.argmax(-1) == labels).float().mean()
        return bc.BCTrainingMetrics(
            neglogp=loss.detach(),
            entropy=None,
            ent_loss=zero,
            prob_true_act=agree,
            l2_norm=zero,
            l2_loss=zero,
            loss=loss,
        )


def distill(
    teacher: NetworkPolicy,
    student_hidden: tuple[int, ...],
    states: TaskBatch,
    *,
    labels: np.ndarray | None = None,
    loss: str = "paper",
    temperature: float = config.TEMPERATURE,
    augment: Augmentation = config.KD_AUGMENT,
    epochs: int = config.STUDENT_EPOCHS,
    batch_size: int = config.STUDENT_BATCH_SIZE,
    learning_rate: float = config.BC["learning_rate"],
    rng: np.random.Generator,
    name: str = "kd_dil",
    progress: bool = True,
) -> tuple[NetworkPolicy, TrainingHistory]:
    """Train a small multi-label student on ``states`` from ``teacher``'s soft labels.

    Args:
        teacher: a trained multi-label :class:`NetworkPolicy` (e.g. from ``train_dil``).
        student_hidden: the student's hidden layer widths (the paper: 2 x 32,
            ``config.STUDENT_HIDDEN``).
        states: the student's training tasks (the paper: 1K of the ``paper-kd`` scenario).
        labels: (N, n) hard labels of ``states`` for the ``hinton`` and ``dkd``
            losses, e.g. the optimal decisions; by default the teacher's own
            decisions. Only with ``augment="none"``: synthetic states have no
            labels but the teacher's.
        loss: one of ``LOSSES`` (see the module docstring).
        temperature: T >= 1 (the paper: 5).
        augment: one of ``AUGMENTATIONS`` (see the module docstring); the
            default, ``config.KD_AUGMENT``, is ``"recombine"``; ``"none"`` is
            the paper's recipe.
    """
    if teacher.kind != "multilabel":
        raise ValueError(f"the teacher must be a multilabel policy; got kind {teacher.kind!r}")
    if states.n_subtasks != teacher.n_subtasks:
        raise ValueError(
            f"states have {states.n_subtasks} subtasks; the teacher decides {teacher.n_subtasks}"
        )
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    calculator = DistillationLoss(teacher, loss, temperature, augment, generator)  # validates
    if labels is not None and augment != "none":
        raise ValueError(
            f"labels are hard labels of the given states, but augment={augment!r} trains on "
            "synthetic states whose only labels are the teacher's: pass labels=None, "
            "or augment='none'"
        )
    n = states.n_subtasks
    if labels is None:
        labels = teacher.decide(states)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.shape != (len(states), n):
        raise ValueError(f"labels must have shape {(len(states), n)}; got {labels.shape}")
    return clone(
        name,
        "multilabel",
        features(states),
        labels,
        n_subtasks=n,
        hidden=student_hidden,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        rng=rng,
        progress=progress,
        loss_calculator=calculator,
    )
