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


def distillation_loss(
    weights: LossWeights,
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    hidden: tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted sum of the three terms, and each term's value for logging."""
    kd = soft_target_loss(student_logits, teacher_logits, weights.temperature)
    ce = hard_label_loss(student_logits, labels)
    return combine(weights, kd, ce, hidden)


def combine(
    weights: LossWeights, kd: torch.Tensor, ce: torch.Tensor,
    hidden: tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """alpha_kd * kd + alpha_ce * ce (+ alpha_cos * hidden cosine), and each term for logging."""
    total = weights.alpha_kd * kd + weights.alpha_ce * ce
    parts = {"loss_kd": kd.item(), "loss_ce": ce.item()}
    if hidden is not None and weights.alpha_cos > 0:
        cos = hidden_cosine_loss(*hidden)
        total = total + weights.alpha_cos * cos
        parts["loss_cos"] = cos.item()
    return total, parts


PADDING_LOGIT = -1e4


def mask_padding(logits: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Position logits with padding positions pushed to -1e4, so no softmax puts mass there."""
    return logits.masked_fill(attention_mask == 0, PADDING_LOGIT)


def span_soft_target_loss(student: tuple[torch.Tensor, torch.Tensor], teacher: tuple[torch.Tensor, torch.Tensor],
                          temperature: float, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over start and end of KL(teacher_T || student_T) * T^2 over the positions of each
    window (padding excluded), averaged over the batch."""
    terms = [soft_target_loss(mask_padding(s, attention_mask), mask_padding(t.to(s.dtype), attention_mask), temperature)
             for s, t in zip(student, teacher, strict=True)]
    return (terms[0] + terms[1]) / 2


def span_hard_loss(student: tuple[torch.Tensor, torch.Tensor], positions: tuple[torch.Tensor, torch.Tensor],
                   attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over start and end of the cross-entropy with the gold token positions (CLS = 0 when
    the window holds no answer), as BERT's SQuAD head is trained."""
    terms = [hard_label_loss(mask_padding(s, attention_mask), p) for s, p in zip(student, positions, strict=True)]
    return (terms[0] + terms[1]) / 2


def span_distillation_loss(
    weights: LossWeights,
    student: tuple[torch.Tensor, torch.Tensor],
    teacher: tuple[torch.Tensor, torch.Tensor],
    positions: tuple[torch.Tensor, torch.Tensor],
    attention_mask: torch.Tensor,
    hidden: tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor] | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Question answering: the three terms of `distillation_loss` on (start, end) logit pairs."""
    kd = span_soft_target_loss(student, teacher, weights.temperature, attention_mask)
    ce = span_hard_loss(student, positions, attention_mask)
    return combine(weights, kd, ce, hidden)
