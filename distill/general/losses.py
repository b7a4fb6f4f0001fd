"""The terms of general distillation as pure functions of tensors (Sanh et al. 2019's triple loss,
plus the hidden-state MSE used when the teacher has no MLM head).

Defaults (see `GeneralWeights`) follow the reference DistilBERT training: alpha_ce 5.0 on the
soft-target KL at T = 2.0 (x T^2), alpha_mlm 2.0 on the student's own masked-LM cross-entropy,
alpha_cos 1.0 on the cosine between the last hidden states. Without an MLM head the two MLM terms
are off and the hidden states carry everything (cosine and MSE, alpha_mse 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from distill.general.masking import IGNORE
from distill.losses import hidden_cosine_loss, hidden_mse_loss, soft_target_loss


@dataclass(frozen=True)
class GeneralWeights:
    temperature: float = 2.0
    alpha_ce: float = 5.0  # KL(teacher_T || student_T) x T^2 over the masked positions
    alpha_mlm: float = 2.0  # the student's masked-LM cross-entropy with the original tokens
    alpha_cos: float = 1.0  # 1 - cosine of the last hidden states, real tokens only
    alpha_mse: float = 0.0  # mean squared error of the last hidden states (the default without an MLM head: 1.0)

    def hidden_only(self) -> GeneralWeights:
        """The weights for a teacher without an MLM head: no MLM terms, MSE on when it was off."""
        return GeneralWeights(self.temperature, 0.0, 0.0, self.alpha_cos, self.alpha_mse or 1.0)


def masked_soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                            temperature: float) -> torch.Tensor:
    """KL(softmax(teacher/T) || softmax(student/T)) x T^2 over the vocabulary at the masked
    positions (labels != -100), averaged over those positions."""
    chosen = labels != IGNORE
    if not chosen.any():
        return student_logits.sum() * 0.0  # nothing masked in this batch
    return soft_target_loss(student_logits[chosen], teacher_logits[chosen].to(student_logits.dtype), temperature)


def mlm_loss(student_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the student's predictions with the original tokens at the masked positions."""
    if not (labels != IGNORE).any():
        return student_logits.sum() * 0.0
    return F.cross_entropy(student_logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)


def general_loss(weights: GeneralWeights, student_logits: torch.Tensor | None, teacher_logits: torch.Tensor | None,
                 labels: torch.Tensor | None, hidden: tuple[list, list, torch.Tensor]) -> tuple[torch.Tensor, dict]:
    """The weighted sum of the terms that are on, and each term's value for logging."""
    terms = {}
    if weights.alpha_ce > 0:
        terms["loss_ce"] = (weights.alpha_ce, masked_soft_target_loss(student_logits, teacher_logits, labels,
                                                                      weights.temperature))
    if weights.alpha_mlm > 0:
        terms["loss_mlm"] = (weights.alpha_mlm, mlm_loss(student_logits, labels))
    if weights.alpha_cos > 0:
        terms["loss_cos"] = (weights.alpha_cos, hidden_cosine_loss(*hidden))
    if weights.alpha_mse > 0:
        terms["loss_mse"] = (weights.alpha_mse, hidden_mse_loss(*hidden))
    if not terms:
        raise ValueError("every loss weight is 0: nothing to train")
    total = sum(weight * value for weight, value in terms.values())
    return total, {name: value.item() for name, (_, value) in terms.items()}
