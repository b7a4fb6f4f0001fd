"""The text-classification side of `distill export` (the shared text path in
`distill.tasks.text.export`): label names mapped to logits indices, argmax predictions (a
teacher's mapped to the student's label order by name), and the classification metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from distill.export.config import Student
from distill.tasks.classification.metrics import classification_metrics
from distill.tasks.text import export as text_export
from distill.tasks.text.export import Scoring, ValidationSet


def read_validation(path: Path, labels: list[str], limit: int | None = None) -> ValidationSet:
    """Read `validation.jsonl`; label names map to logits indices."""
    index = {name: i for i, name in enumerate(labels)}

    def label(name: str) -> int:
        if name not in index:
            raise ValueError(f"label {name!r} is not one of {labels}")
        return index[name]

    return text_export.read_validation(path, label, limit)


def _label_map(model: Any, labels: list[str]) -> np.ndarray:
    """Teacher logits index -> student label index (by name; by position if names differ)."""
    names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    if set(names) == set(labels):
        return np.asarray([labels.index(n) for n in names])
    return np.arange(len(names))


def predict(model: Any, logits: np.ndarray, labels: list[str]) -> np.ndarray:
    """Argmax class indices in the student's label order (`model` None: already in that order)."""
    predictions = logits.argmax(axis=-1)
    return predictions if model is None else _label_map(model, labels)[predictions]


def scoring(student: Student) -> Scoring:
    labels = student.labels
    return Scoring(lambda model, logits: predict(model, logits, labels),
                   lambda gold, predicted: classification_metrics(gold, predicted, len(labels)),
                   student.info.get("headline", "accuracy"))

