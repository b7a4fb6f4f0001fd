"""Token classification's view of the shared distillation losses: every labelled position (the
first sub-token of a word) is one example of a classification over the tags, so KL to the teacher
and cross-entropy with the gold tag are averaged over those positions; other sub-tokens, [CLS],
[SEP] and padding (label -100) take no part. The hidden-state cosine covers every real token."""

from __future__ import annotations

import torch

from distill.losses import Hidden, LossWeights, distillation_loss
from distill.tasks.token_classification.features import IGNORE


def token_distillation_loss(weights: LossWeights, student: torch.Tensor, teacher: torch.Tensor,
                            labels: torch.Tensor, hidden: Hidden | None = None):
    """The three terms of `distill.losses.distillation_loss` over the labelled positions."""
    keep = labels != IGNORE
    return distillation_loss(weights, student[keep], teacher[keep].to(student.dtype), labels[keep], hidden)
