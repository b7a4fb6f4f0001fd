"""The embedding distillation loss: the student's sentence embedding against the teacher's, as the
squared distance (summed over the dimensions, weighted by alpha_kd) and as 1 - cosine (weighted by
alpha_ce, there being no gold labels), plus the hidden-state cosine (alpha_cos), combined by
`distill.losses.combine`.

For L2-normalised embeddings the squared distance is 2 - 2 cosine, so the two terms agree; for
embeddings that are not normalised the squared distance also matches their length.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from distill.losses import Hidden, LossWeights, combine

NAMES = {"loss_kd": "loss_mse", "loss_ce": "loss_embedding_cos"}  # the logged terms, named for what they are


def embedding_loss(weights: LossWeights, student: torch.Tensor, teacher: torch.Tensor,
                   hidden: Hidden | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """(total, {term: value}) for [batch, dim] student and teacher embeddings."""
    teacher = teacher.to(student.dtype)
    squared = (student - teacher).pow(2).sum(dim=-1).mean()
    cosine = (1.0 - F.cosine_similarity(student, teacher, dim=-1)).mean()
    total, parts = combine(weights, squared, cosine, hidden)
    return total, {NAMES.get(name, name): value for name, value in parts.items()}
