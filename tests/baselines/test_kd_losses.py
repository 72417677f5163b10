"""The distillation losses on hand-made logits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from baselines.kd import LOSS_FUNCTIONS, bdd_loss, dkd_loss, hinton_loss, paper_loss, soft_labels

TEACHER = torch.tensor([[[4.0, 1.0, -2.0], [0.0, 3.0, 0.5]]])  # one task, two subtask heads
STUDENT = torch.tensor([[[1.0, 0.0, 0.0], [0.2, 0.1, 2.0]]])
LABELS = torch.tensor([[0, 1]])


@pytest.mark.parametrize("temperature", [1.0, 2.0, 5.0, 10.0])
def test_softened_log_softmax_equals_softmax_of_scaled_logits(temperature):
    z = torch.randn(50, 3, dtype=torch.float64) * 6
    paper_formula = F.softmax(torch.log(F.softmax(z, -1)) / temperature, -1)
    assert torch.allclose(paper_formula, soft_labels(z, temperature), atol=1e-12)


def test_temperature_one_keeps_the_teacher_probabilities():
    assert torch.allclose(soft_labels(TEACHER, 1.0), F.softmax(TEACHER, -1))


def test_the_papers_worked_example_by_its_formula():
    """Sec. 4 softens (0.999, 2e-4, 3e-6) with T = 5 and T = 10.

    The paper prints (0.71, 0.20, 0.09) and (0.53, 0.28, 0.19), which its own
    formula does not give: exp(ln(p) / T) normalised is computed here by hand.
    """
    p = np.array([0.999, 2e-4, 3e-6])
    logits = torch.log(torch.tensor(p, dtype=torch.float64))
    for temperature, by_hand in ((5, [0.7932, 0.1444, 0.0624]), (10, [0.5858, 0.2500, 0.1642])):
        powered = p ** (1 / temperature)
        assert powered / powered.sum() == pytest.approx(by_hand, abs=1e-4)
        assert soft_labels(logits, temperature).numpy() == pytest.approx(by_hand, abs=1e-4)


def test_paper_loss_by_hand():
    q = np.exp(TEACHER.numpy() / 5) / np.exp(TEACHER.numpy() / 5).sum(-1, keepdims=True)
    log_p = STUDENT.numpy() - np.log(np.exp(STUDENT.numpy()).sum(-1, keepdims=True))
    expected = -(q * log_p).sum()  # summed over both heads, one task
    assert paper_loss(STUDENT, TEACHER, LABELS, 5.0).item() == pytest.approx(expected, rel=1e-6)


def test_hinton_mixes_soft_and_hard_terms():
    T = 4.0
    p_t, log_s = F.softmax(TEACHER / T, -1), F.log_softmax(STUDENT / T, -1)
    kl = (p_t * (p_t.log() - log_s)).sum()
    ce = F.cross_entropy(STUDENT.view(-1, 3), LABELS.view(-1), reduction="sum")
    assert hinton_loss(STUDENT, TEACHER, LABELS, T, alpha=1.0).item() == pytest.approx(
        T**2 * kl.item(), rel=1e-6
    )
    assert hinton_loss(STUDENT, TEACHER, LABELS, T, alpha=0.0).item() == pytest.approx(
        ce.item(), rel=1e-6
    )


@pytest.mark.parametrize("name", ["hinton", "dkd", "bdd"])
def test_divergences_vanish_when_the_student_copies_the_teacher(name):
    extra = {"alpha": 1.0} if name == "hinton" else {}
    same = LOSS_FUNCTIONS[name](TEACHER.clone(), TEACHER, LABELS, 5.0, **extra)
    assert same.item() == pytest.approx(0.0, abs=1e-6)
    assert LOSS_FUNCTIONS[name](STUDENT, TEACHER, LABELS, 5.0, **extra).item() > 0.01


def test_dkd_splits_target_and_non_target_terms():
    T = 2.0
    target_only = dkd_loss(STUDENT, TEACHER, LABELS, T, alpha=1.0, beta=0.0)
    non_target_only = dkd_loss(STUDENT, TEACHER, LABELS, T, alpha=0.0, beta=1.0)
    both = dkd_loss(STUDENT, TEACHER, LABELS, T, alpha=1.0, beta=1.0)
    assert both.item() == pytest.approx(target_only.item() + non_target_only.item(), rel=1e-6)
    # By hand for head 0 (target class 0): binary KL of (p0, 1 - p0).
    p_t, p_s = F.softmax(TEACHER[0, 0] / T, -1), F.softmax(STUDENT[0, 0] / T, -1)
    b_t, b_s = torch.stack([p_t[0], 1 - p_t[0]]), torch.stack([p_s[0], 1 - p_s[0]])
    head0 = (b_t * (b_t / b_s).log()).sum() * T**2
    head0_loss = dkd_loss(STUDENT[:, :1], TEACHER[:, :1], LABELS[:, :1], T, alpha=1.0, beta=0.0)
    assert head0_loss.item() == pytest.approx(head0.item(), rel=1e-5)


def test_bdd_adds_the_reverse_kl():
    T = 3.0
    log_t, log_s = F.log_softmax(TEACHER / T, -1), F.log_softmax(STUDENT / T, -1)
    forward = (log_t.exp() * (log_t - log_s)).sum()
    reverse = (log_s.exp() * (log_s - log_t)).sum()
    expected = T**2 * (forward + 0.5 * reverse)
    assert bdd_loss(STUDENT, TEACHER, LABELS, T, beta=0.5).item() == pytest.approx(
        expected.item(), rel=1e-6
    )
