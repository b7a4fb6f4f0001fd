"""The classification decoding rules: score functions and top_k."""

from __future__ import annotations

import numpy as np
import pytest

from service.tasks.scores import apply_function, classification_scores


def test_score_functions():
    logits = np.array([1.0, 3.0, -2.0])
    softmax = apply_function(logits, "softmax")
    assert softmax.sum() == pytest.approx(1.0) and softmax.argmax() == 1
    np.testing.assert_allclose(apply_function(logits, "sigmoid"), 1 / (1 + np.exp(-logits)))
    np.testing.assert_allclose(apply_function(logits, "none"), logits)
    with pytest.raises(ValueError):
        apply_function(logits, "relu")


def test_top_k_orders_best_first():
    labels = ["a", "b", "c"]
    logits = np.array([0.1, 2.0, 1.0])
    assert [s["label"] for s in classification_scores(logits, labels, None, "none")] == ["b", "c", "a"]
    assert classification_scores(logits, labels, 1, "none") == [{"label": "b", "score": 2.0}]
    assert len(classification_scores(logits, labels, 10, "softmax")) == 3
