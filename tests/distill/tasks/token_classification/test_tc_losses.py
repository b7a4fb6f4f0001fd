"""The token-level distillation loss: the shared KL / CE over the labelled positions only."""

import pytest
import torch

from distill.losses import LossWeights, distillation_loss
from distill.tasks.token_classification.features import IGNORE
from distill.tasks.token_classification.losses import token_distillation_loss

WEIGHTS = LossWeights(temperature=2.0, alpha_kd=0.5, alpha_ce=0.5, alpha_cos=0.0)


def _batch():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 4, 3), torch.randn(2, 4, 3)
    labels = torch.tensor([[IGNORE, 2, IGNORE, IGNORE], [IGNORE, 0, 1, IGNORE]])
    return student, teacher, labels


def test_the_loss_is_the_classification_loss_of_the_labelled_positions():
    student, teacher, labels = _batch()
    total, parts = token_distillation_loss(WEIGHTS, student, teacher, labels)
    rows = [(0, 1), (1, 1), (1, 2)]
    picked = [torch.stack([x[b, p] for b, p in rows]) for x in (student, teacher)]
    expected, expected_parts = distillation_loss(WEIGHTS, picked[0], picked[1], torch.tensor([2, 0, 1]))
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    assert parts == pytest.approx(expected_parts, rel=1e-6)


def test_unlabelled_positions_do_not_move_the_loss_or_get_gradient():
    student, teacher, labels = _batch()
    student.requires_grad_(True)
    before, _ = token_distillation_loss(WEIGHTS, student, teacher, labels)
    before.backward()
    assert student.grad[0, 0].abs().sum() == 0 and student.grad[1, 3].abs().sum() == 0
    assert student.grad[0, 1].abs().sum() > 0
    changed_teacher = teacher.clone()
    changed_teacher[labels == IGNORE] = 100.0
    after, _ = token_distillation_loss(WEIGHTS, student.detach(), changed_teacher, labels)
    assert after.item() == pytest.approx(before.item(), rel=1e-6)
