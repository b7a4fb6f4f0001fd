"""Distillation losses as pure functions of tensors.

Defaults (see `LossWeights`):
- temperature 2.0: Sanh et al. (2019) distil DistilBERT with T = 2; Hinton et al. (2015) show that a
  temperature above 1 exposes the teacher's relative probabilities of the wrong classes ("dark
  knowledge"), which a near-one-hot softmax at T = 1 hides.
- the soft-target term is multiplied by T^2 because its gradients scale as 1/T^2 (Hinton et al.,
  2015, section 2), so changing T does not silently change its weight against the hard term.
- alpha_kd 0.5 / alpha_ce 0.5: a task-specific teacher is not perfect, and Hinton et al. report the
  best results from a weighted average of the soft and the true-label objectives; equal weights
  keep the labels able to correct the teacher's mistakes.
- alpha_cos 0.1: Sanh et al. add a cosine loss aligning student and teacher hidden states and find
  it helps; it is an auxiliary term, so it gets a small weight next to the two output losses.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LossWeights:
    temperature: float = 2.0
    alpha_kd: float = 0.5  # soft-target KL(teacher_T || student_T) * T^2
    alpha_ce: float = 0.5  # cross-entropy with the true labels
    alpha_cos: float = 0.1  # 1 - cosine between mapped hidden states


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(softmax(teacher/T) || softmax(student/T)) * T^2, averaged over the batch."""
    log_p_student = F.log_softmax(student_logits / temperature, dim=-1)
    log_p_teacher = F.log_softmax(teacher_logits / temperature, dim=-1)
    kl = F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)
    return kl * temperature**2


def hard_label_loss(student_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the student's logits with the true class indices, averaged over the batch."""
    return F.cross_entropy(student_logits, labels)


def hidden_cosine_loss(
    student_hidden: list[torch.Tensor], teacher_hidden: list[torch.Tensor], attention_mask: torch.Tensor
) -> torch.Tensor:
    """Mean over the layer pairs of (1 - cosine similarity) between hidden states.

    Padding positions are left out: each sequence contributes the mean over its real tokens, and
    sequences weigh equally (so the loss of a batch split across processes averages exactly).
    """
    mask = attention_mask.to(student_hidden[0].dtype)
    per_layer = []
    for s, t in zip(student_hidden, teacher_hidden, strict=True):
        distance = 1.0 - F.cosine_similarity(s, t.to(s.dtype), dim=-1)  # (batch, seq)
        per_sequence = (distance * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        per_layer.append(per_sequence.mean())
    return torch.stack(per_layer).mean()


def hidden_mse_loss(student: list[torch.Tensor], teacher: list[torch.Tensor], attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over the layer pairs of the squared error per hidden unit, over real tokens only."""
    mask = attention_mask.to(student[0].dtype).unsqueeze(-1)
    per_layer = [(((s - t.to(s.dtype)) ** 2) * mask).sum() / (mask.sum() * s.shape[-1]).clamp(min=1.0)
                 for s, t in zip(student, teacher, strict=True)]
    return torch.stack(per_layer).mean()


Logits = torch.Tensor | Sequence[torch.Tensor]  # one output, or one per output head (start, end)
Hidden = tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]  # student, mapped teacher, mask


def distillation_loss(
    weights: LossWeights, student_logits: Logits, teacher_logits: Logits, labels: Logits, hidden: Hidden | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted sum of the three terms, and each term's value for logging.

    A task with several output heads (question answering: start and end logits over positions)
    passes one tensor per head; the soft-target and the hard term are then the mean over heads."""
    students, teachers, golds = _heads(student_logits), _heads(teacher_logits), _heads(labels)
    kd = _mean([soft_target_loss(s, t.to(s.dtype), weights.temperature)
                for s, t in zip(students, teachers, strict=True)])
    ce = _mean([hard_label_loss(s, y) for s, y in zip(students, golds, strict=True)])
    return combine(weights, kd, ce, hidden)


def _heads(value: Logits) -> list[torch.Tensor]:
    return [value] if isinstance(value, torch.Tensor) else list(value)


def _mean(terms: list[torch.Tensor]) -> torch.Tensor:
    return functools.reduce(operator.add, terms) / len(terms)


def regression_loss(weights: LossWeights, student: torch.Tensor, teacher: torch.Tensor, gold: torch.Tensor,
                    hidden: Hidden | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """A one-output regression head: MSE to the teacher's output as the distillation term (no
    temperature: there is no distribution to soften) and MSE to the gold score as the hard term,
    weighted by alpha_kd and alpha_ce like their classification counterparts (+ the hidden cosine)."""
    student = student.reshape(-1)
    kd = F.mse_loss(student, teacher.reshape(-1).to(student.dtype))
    hard = F.mse_loss(student, gold.reshape(-1).to(student.dtype))
    return combine(weights, kd, hard, hidden)


def combine(weights: LossWeights, kd: torch.Tensor, ce: torch.Tensor,
            hidden: Hidden | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """alpha_kd * kd + alpha_ce * ce (+ alpha_cos * hidden cosine), and each term for logging."""
    total = weights.alpha_kd * kd + weights.alpha_ce * ce
    parts = {"loss_kd": kd.item(), "loss_ce": ce.item()}
    if hidden is not None and weights.alpha_cos > 0:
        cos = hidden_cosine_loss(*hidden)
        total = total + weights.alpha_cos * cos
        parts["loss_cos"] = cos.item()
    return total, parts
