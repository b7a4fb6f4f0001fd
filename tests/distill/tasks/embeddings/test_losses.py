"""The embedding loss: zero for identical embeddings, its terms as named, each weight applied."""

import pytest
import torch

from distill.losses import LossWeights
from distill.tasks.embeddings.losses import embedding_loss


def test_terms_and_weights():
    student = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    teacher = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    total, parts = embedding_loss(LossWeights(alpha_kd=0.5, alpha_ce=0.25), student, teacher)
    # row 0: squared distance 2, 1 - cosine 1; row 1: both 0
    assert parts == pytest.approx({"loss_mse": 1.0, "loss_embedding_cos": 0.5})
    assert total.item() == pytest.approx(0.5 * 1.0 + 0.25 * 0.5)
    same, _ = embedding_loss(LossWeights(), teacher, teacher)
    assert same.item() == pytest.approx(0.0, abs=1e-7)


def test_the_hidden_cosine_is_added():
    hidden = ([torch.ones(1, 2, 2)], [-torch.ones(1, 2, 2)], torch.ones(1, 2))
    total, parts = embedding_loss(LossWeights(alpha_cos=0.1), torch.ones(1, 2), torch.ones(1, 2), hidden)
    assert parts["loss_cos"] == pytest.approx(2.0) and total.item() == pytest.approx(0.2)
