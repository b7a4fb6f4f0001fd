"""Text-classification metrics, written with numpy only: the one accuracy and the one macro-F1
that training, evaluation and the export's checks all use, and the metrics GLUE reports besides
accuracy: F1 of the positive class (MRPC, QQP) and Matthews correlation (CoLA)."""

from __future__ import annotations

import numpy as np

POSITIVE = 1  # the positive class of a binary task: the second label (label "1" of 0/1 data)


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


def positive_f1(labels: np.ndarray, predictions: np.ndarray) -> float:
    """F1 = 2TP / (2TP + FP + FN) of the positive class (0 when it never occurs nor is predicted)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    tp = np.sum((predictions == POSITIVE) & (labels == POSITIVE))
    wrong = np.sum((predictions == POSITIVE) != (labels == POSITIVE))
    return float(2 * tp / (2 * tp + wrong)) if (2 * tp + wrong) else 0.0


def matthews(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> float:
    """Matthews correlation, in its multi-class form (Gorodkin 2004) which is the binary
    (TP.TN - FP.FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) for two classes; 0 when undefined."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    confusion = np.zeros((num_classes, num_classes), dtype=np.float64)
    np.add.at(confusion, (labels, predictions), 1.0)
    total, correct = confusion.sum(), np.trace(confusion)
    true, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    numerator = correct * total - true @ predicted
    denominator = np.sqrt((total**2 - predicted @ predicted) * (total**2 - true @ true))
    return float(numerator / denominator) if denominator else 0.0


def classification_metrics(labels, predictions, num_classes: int) -> dict[str, float]:
    """Accuracy, macro-F1 and Matthews correlation; F1 of the positive class for two classes."""
    scores = {"accuracy": accuracy(labels, predictions), "macro_f1": macro_f1(labels, predictions, num_classes)}
    if num_classes == 2:
        scores["positive_f1"] = positive_f1(labels, predictions)
    scores["matthews"] = matthews(labels, predictions, num_classes)
    return scores
