"""Question answering's view of the shared distillation losses: start and end logits are two
output heads over the positions of a window, with padding positions pushed out of every softmax."""

from __future__ import annotations

import torch

from distill.losses import Hidden, LossWeights, distillation_loss, hard_label_loss, soft_target_loss

PADDING_LOGIT = -1e4
Pair = tuple[torch.Tensor, torch.Tensor]  # (start, end)


def mask_padding(logits: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Position logits with padding positions pushed to -1e4, so no softmax puts mass there."""
    return logits.masked_fill(attention_mask == 0, PADDING_LOGIT)


def masked_pairs(student: Pair, teacher: Pair, attention_mask: torch.Tensor) -> tuple[Pair, Pair]:
    """Both models' (start, end) logits with padding masked, the teacher's in the student's dtype."""
    students = tuple(mask_padding(s, attention_mask) for s in student)
    teachers = tuple(mask_padding(t.to(s.dtype), attention_mask) for s, t in zip(student, teacher, strict=True))
    return students, teachers


def span_soft_target_loss(student: Pair, teacher: Pair, temperature: float, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over start and end of KL(teacher_T || student_T) * T^2 over the positions of each
    window (padding excluded), averaged over the batch."""
    students, teachers = masked_pairs(student, teacher, attention_mask)
    terms = [soft_target_loss(s, t, temperature) for s, t in zip(students, teachers)]
    return (terms[0] + terms[1]) / 2


def span_hard_loss(student: Pair, positions: Pair, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over start and end of the cross-entropy with the gold token positions (CLS = 0 when
    the window holds no answer), as BERT's SQuAD head is trained."""
    terms = [hard_label_loss(mask_padding(s, attention_mask), p) for s, p in zip(student, positions, strict=True)]
    return (terms[0] + terms[1]) / 2


def span_distillation_loss(weights: LossWeights, student: Pair, teacher: Pair, positions: Pair,
                           attention_mask: torch.Tensor, hidden: Hidden | None = None):
    """The three terms of `distill.losses.distillation_loss` on the masked (start, end) heads."""
    students, teachers = masked_pairs(student, teacher, attention_mask)
    return distillation_loss(weights, students, teachers, positions, hidden)
