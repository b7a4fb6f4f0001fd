"""Span distillation losses against numbers worked out by hand (natural logarithms)."""

import math

import pytest
import torch

from distill.losses import LossWeights
from distill.tasks.question_answering.losses import span_distillation_loss, span_hard_loss, span_soft_target_loss

LN3 = math.log(3.0)
MASK = torch.tensor([[1, 1, 0]])  # the third position is padding and must not count
# start: teacher (2 ln 3, 0) at T=2 -> (3/4, 1/4); student (0, 0) -> (1/2, 1/2)
#   KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.130812; x T^2 = 0.523248
# end: identical logits -> 0.  Mean over start and end: 0.261624
TEACHER = (torch.tensor([[2 * LN3, 0.0, 99.0]]), torch.tensor([[1.0, -1.0, 7.0]]))
STUDENT = (torch.tensor([[0.0, 0.0, -50.0]]), torch.tensor([[1.0, -1.0, 7.0]]))
POSITIONS = (torch.tensor([0]), torch.tensor([1]))


def test_span_kl_is_the_mean_of_start_and_end_kl_without_padding():
    value = span_soft_target_loss(STUDENT, TEACHER, 2.0, MASK).item()
    assert value == pytest.approx(0.261624, abs=1e-5)


def test_span_kl_of_a_batch_is_the_mean_over_windows():
    both = tuple(torch.cat([s, t]) for s, t in zip(STUDENT, TEACHER))
    value = span_soft_target_loss(both, tuple(torch.cat([t, t]) for t in TEACHER), 2.0, torch.cat([MASK, MASK]))
    assert value.item() == pytest.approx(0.261624 / 2, abs=1e-5)


def test_span_cross_entropy_by_hand():
    # start (0, 0), gold 0: ln 2 = 0.693147; end (1, -1), gold 1: ln(1 + e^2) = 2.126928; mean 1.410038
    assert span_hard_loss(STUDENT, POSITIONS, MASK).item() == pytest.approx(1.410038, abs=1e-5)


def test_span_distillation_weights_the_terms():
    weights = LossWeights(temperature=2.0, alpha_kd=0.5, alpha_ce=0.5, alpha_cos=0.0)
    total, parts = span_distillation_loss(weights, STUDENT, TEACHER, POSITIONS, MASK)
    assert total.item() == pytest.approx(0.5 * 0.261624 + 0.5 * 1.410038, abs=1e-5)
    assert set(parts) == {"loss_kd", "loss_ce"}
