"""Regression metrics as GLUE reports them for STS-B, with numpy only: Pearson and Spearman
correlation of the predicted scores with the gold scores."""

from __future__ import annotations

import numpy as np

# The quality metrics of a regression report row: (key in the row, name for people).
METRICS = (("pearson", "Pearson"), ("spearman", "Spearman"))


def pearson(gold: np.ndarray, predicted: np.ndarray) -> float:
    """Pearson correlation; 0 when either side is constant (undefined)."""
    x = np.asarray(gold, dtype=np.float64) - np.mean(gold)
    y = np.asarray(predicted, dtype=np.float64) - np.mean(predicted)
    denominator = np.sqrt((x @ x) * (y @ y))
    return float((x @ y) / denominator) if denominator else 0.0


def ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties given the mean of the ranks they span."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    result = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            result[order[start:end]] = (start + end + 1) / 2.0
            start = end
    return result


def spearman(gold: np.ndarray, predicted: np.ndarray) -> float:
    """Spearman correlation: Pearson correlation of the (tie-averaged) ranks."""
    return pearson(ranks(gold), ranks(predicted))


def regression_metrics(gold, predicted) -> dict[str, float]:
    gold, predicted = np.asarray(gold, dtype=np.float64), np.asarray(predicted, dtype=np.float64).reshape(-1)
    if gold.size == 0:
        raise ValueError("correlation of an empty set is undefined")
    return {"pearson": pearson(gold, predicted), "spearman": spearman(gold, predicted)}
