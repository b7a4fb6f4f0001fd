"""The embedding distillation loss: the student's sentence embedding against the teacher's, as the
squared distance (MSE summed over the dimensions, weighted by alpha_kd) and as 1 - cosine
(weighted by alpha_ce, there being no gold labels), plus the hidden-state cosine (alpha_cos).

For L2-normalised embeddings the squared distance is 2 - 2 cosine, so the two terms agree; for
embeddings that are not normalised the squared distance also matches their length.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from distill.losses import Hidden, LossWeights, hidden_cosine_loss


def embedding_loss(weights: LossWeights, student: torch.Tensor, teacher: torch.Tensor,
                   hidden: Hidden | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """(total, {term: value}) for [batch, dim] student and teacher embeddings."""
    teacher = teacher.to(student.dtype)
    squared = (student - teacher).pow(2).sum(dim=-1).mean()
    cosine = (1.0 - F.cosine_similarity(student, teacher, dim=-1)).mean()
    total = weights.alpha_kd * squared + weights.alpha_ce * cosine
    parts = {"loss_mse": squared.item(), "loss_embedding_cos": cosine.item()}
    if hidden is not None and weights.alpha_cos > 0:
        hidden_term = hidden_cosine_loss(*hidden)
        total = total + weights.alpha_cos * hidden_term
        parts["loss_cos"] = hidden_term.item()
    return total, parts
