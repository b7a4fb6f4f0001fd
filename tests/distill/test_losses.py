"""Loss values against numbers worked out by hand (natural logarithms)."""

import math

import pytest
import torch

from distill.losses import LossWeights, distillation_loss, hard_label_loss, hidden_cosine_loss, soft_target_loss

LN3 = math.log(3.0)
# Row 0: teacher logits (2 ln 3, 0) at T=2 -> p_t = (3/4, 1/4); student (0, 0) -> p_s = (1/2, 1/2).
# KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.304099 - 0.173287 = 0.130812; x T^2 = 0.523248.
# Row 1: identical logits -> KL 0.  Batch mean: 0.261624.
TEACHER = torch.tensor([[2 * LN3, 0.0], [1.0, -1.0]])
STUDENT = torch.tensor([[0.0, 0.0], [1.0, -1.0]])


def test_soft_target_loss_matches_hand_computation():
    assert soft_target_loss(STUDENT, TEACHER, temperature=2.0).item() == pytest.approx(0.261624, abs=1e-5)


def test_soft_target_loss_is_zero_for_identical_logits():
    assert soft_target_loss(TEACHER, TEACHER, temperature=3.0).item() == pytest.approx(0.0, abs=1e-7)


def test_soft_target_loss_at_temperature_one():
    # T=1: p_t = softmax(2 ln 3, 0) = (9/10, 1/10) vs (1/2, 1/2):
    # 0.9 ln 1.8 + 0.1 ln 0.2 = 0.529007 - 0.160944 = 0.368063 on row 0, 0 on row 1 -> 0.184031.
    assert soft_target_loss(STUDENT, TEACHER, temperature=1.0).item() == pytest.approx(0.184031, abs=1e-5)


def test_hard_label_loss_matches_hand_computation():
    # logits (ln 3, 0): p = (3/4, 1/4). Label 0: -ln 0.75 = 0.287682; label 1: -ln 0.25 = 1.386294.
    logits = torch.tensor([[LN3, 0.0], [LN3, 0.0]])
    assert hard_label_loss(logits, torch.tensor([0, 1])).item() == pytest.approx(0.836988, abs=1e-5)


def _hidden():
    # Sequence 0: tokens 1-2 real. cos((1,0),(1,0)) = 1 -> 0; cos((0,1),(1,0)) = 0 -> 1; mean 0.5.
    #   Token 3 is padding and differs wildly: it must not count.
    # Sequence 1: token 1 real. cos((1,1),(1,0)) = 1/sqrt(2) -> 1 - 0.707107 = 0.292893.
    # Mean over sequences: (0.5 + 0.292893) / 2 = 0.396447.
    student = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]], [[1.0, 1.0], [3.0, 0.0], [0.0, 2.0]]])
    teacher = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [-1.0, 2.0]], [[1.0, 0.0], [-3.0, 0.0], [0.0, -2.0]]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    return student, teacher, mask


def test_hidden_cosine_loss_masks_padding():
    student, teacher, mask = _hidden()
    assert hidden_cosine_loss([student], [teacher], mask).item() == pytest.approx(0.396447, abs=1e-5)


def test_hidden_cosine_loss_averages_layers():
    student, teacher, mask = _hidden()
    # second layer pair identical -> 0; mean of (0.396447, 0) = 0.198223
    value = hidden_cosine_loss([student, teacher], [teacher, teacher], mask).item()
    assert value == pytest.approx(0.198223, abs=1e-5)


def test_distillation_loss_weights_the_terms():
    student, teacher, mask = _hidden()
    weights = LossWeights(temperature=2.0, alpha_kd=0.5, alpha_ce=0.25, alpha_cos=0.1)
    labels = torch.tensor([0, 0])
    # CE: row 0 logits (0,0) -> ln 2 = 0.693147; row 1 logits (1,-1), label 0 -> ln(1 + e^-2) = 0.126928
    # mean CE 0.410038. Total 0.5*0.261624 + 0.25*0.410038 + 0.1*0.396447 = 0.130812 + 0.102510 + 0.039645
    total, parts = distillation_loss(weights, STUDENT, TEACHER, labels, ([student], [teacher], mask))
    assert total.item() == pytest.approx(0.272967, abs=1e-5)
    assert parts["loss_ce"] == pytest.approx(0.410038, abs=1e-5)
    assert parts["loss_cos"] == pytest.approx(0.396447, abs=1e-5)
