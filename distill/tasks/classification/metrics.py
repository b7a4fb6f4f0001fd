"""Text-classification metrics, written with numpy only: the one accuracy and the one macro-F1
that training, evaluation and the export's checks all use."""

from __future__ import annotations

import numpy as np

# The quality metrics of a classification report row: (key in the row, name for people).
METRICS = (("accuracy", "accuracy"), ("macro_f1", "macro-F1"))


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.size == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.mean(labels == predictions))


def macro_f1(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> float:
    """Unweighted mean of F1 = 2TP / (2TP + FP + FN) over the classes that occur in the labels or
    the predictions. A class that occurs in neither (TP = FP = FN = 0) has no defined F1 and is
    left out, as scikit-learn's and the `evaluate` library's macro average do when they are given
    only the observed labels: a small validation split that lacks a rare class is not marked down
    for it, while a class that is predicted but never right still counts as F1 = 0."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    scores = []
    for c in range(num_classes):
        tp = np.sum((predictions == c) & (labels == c))
        fp = np.sum((predictions == c) & (labels != c))
        fn = np.sum((predictions != c) & (labels == c))
        denominator = 2 * tp + fp + fn
        if denominator:
            scores.append(2 * tp / denominator)
    return float(np.mean(scores)) if scores else 0.0


def classification_metrics(labels, predictions, num_classes: int) -> dict[str, float]:
    return {"accuracy": accuracy(labels, predictions), "macro_f1": macro_f1(labels, predictions, num_classes)}
