"""The GLUE metrics and the regression loss against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from distill.losses import LossWeights, regression_loss
from distill.tasks.classification.metrics import classification_metrics, matthews, positive_f1
from distill.tasks.regression.metrics import pearson, ranks, regression_metrics, spearman


def test_matthews_and_positive_f1_of_a_binary_case():
    labels, predictions = np.array([1, 1, 0, 0, 1]), np.array([1, 0, 0, 1, 1])
    # TP 2, TN 1, FP 1, FN 1: (2*1 - 1*1) / sqrt(3*3*2*2) = 1/6; F1 = 2*2 / (2*2 + 1 + 1) = 2/3
    assert matthews(labels, predictions, 2) == pytest.approx(1 / 6)
    assert positive_f1(labels, predictions) == pytest.approx(2 / 3)
    scores = classification_metrics(labels, predictions, 2)
    assert set(scores) == {"accuracy", "macro_f1", "positive_f1", "matthews"} and scores["accuracy"] == 0.6


def test_matthews_edge_cases_and_three_classes():
    assert matthews(np.array([0, 1, 2]), np.array([0, 1, 2]), 3) == pytest.approx(1.0)
    assert matthews(np.array([0, 1, 0, 1]), np.array([1, 1, 1, 1]), 2) == 0.0  # one class predicted: undefined
    # confusion [[1,1,0],[0,1,0],[0,0,1]]: c=3, s=4, t=(2,1,1), p=(1,2,1): (3*4 - t.p) / sqrt((16 - p.p)(16 - t.t))
    # = (12 - 5) / sqrt(10 * 10) = 0.7
    assert matthews(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), 3) == pytest.approx(0.7)
    assert "positive_f1" not in classification_metrics(np.array([0, 1, 2]), np.array([0, 1, 2]), 3)


def test_pearson_and_spearman_with_ties():
    # dx = (-1, 0, 1), dy = (-7/3, -1/3, 8/3): 5 / sqrt(2 * 114/9)
    assert pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])) == pytest.approx(5 / np.sqrt(228 / 9))
    assert ranks(np.array([1.0, 2.0, 2.0, 3.0])).tolist() == [1.0, 2.5, 2.5, 4.0]
    # ranks (1, 2.5, 2.5, 4) vs (1, 2, 3, 4): 4.5 / sqrt(4.5 * 5)
    assert spearman(np.array([1.0, 2.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0, 40.0])) == pytest.approx(
        4.5 / np.sqrt(22.5))
    assert regression_metrics([1.0, 2.0, 3.0], [[3.0], [2.0], [1.0]]) == {"pearson": -1.0, "spearman": -1.0}
    assert pearson(np.array([1.0, 2.0]), np.array([5.0, 5.0])) == 0.0


def test_regression_loss_is_mse_to_teacher_and_gold_without_temperature():
    student, teacher, gold = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [2.0]]), torch.tensor([1.0, 4.0])
    weights = LossWeights(temperature=7.0, alpha_kd=0.3, alpha_ce=0.7, alpha_cos=0.0)
    total, parts = regression_loss(weights, student, teacher, gold)
    # to the teacher: ((1-0)^2 + 0) / 2 = 0.5; to the gold: (0 + (2-4)^2) / 2 = 2; the temperature plays no part
    assert parts == {"loss_kd": pytest.approx(0.5), "loss_ce": pytest.approx(2.0)}
    assert total.item() == pytest.approx(0.3 * 0.5 + 0.7 * 2.0)
