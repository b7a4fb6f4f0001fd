"""Regression as a `distill` task (`distill.task_protocol.Task`): texts or text pairs with a score,
a one-output head, MSE to the gold score (hard term) and to the teacher's output (distillation
term, no temperature) plus the hidden-state cosine, Pearson and Spearman correlation (headline:
Spearman, the number the DistilBERT paper gives for STS-B)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from distill.losses import regression_loss
from distill.tasks.regression import models
from distill.tasks.regression.data import ScoredData, load_data
from distill.tasks.regression.metrics import METRICS, pearson, regression_metrics
from distill.tasks.text import export as text_export
from distill.tasks.text.data import Split
from distill.tasks.text.task import TextOptions, TextTask
from modelfolder.manifest import REGRESSION


def _predict(model, logits: np.ndarray) -> np.ndarray:
    return np.asarray(logits, dtype=np.float64).reshape(len(logits), -1)[:, 0]


class RegressionTask(TextTask):
    name = REGRESSION
    metrics = METRICS
    headline = "spearman"

    load_data = staticmethod(load_data)

    def teacher_has_head(self, location: str, data: ScoredData) -> bool:
        return models.has_regression_head(location)

    def missing_head_message(self, teacher: str, data: ScoredData) -> str:
        return f"teacher {teacher!r} has no one-output regression head; run `distill teacher` first (or `distill run`)"

    def load_teacher(self, location: str, data: ScoredData, options: TextOptions | None = None):
        return models.load_regressor(location, (options or TextOptions()).teacher_head, data.train.labels)

    def labels_of(self, model, info: dict, where: Path) -> list[str]:
        if model.config.num_labels != 1:
            raise ValueError(f"{where}: a regressor has one output, this model has {model.config.num_labels}")
        return []

    def build_student(self, teacher, layers: int, data: ScoredData):
        return models.build_student(teacher, layers)

    def student_from(self, general_student: str, data: ScoredData):
        return models.student_from(general_student)

    def trainer_metrics(self, prediction) -> dict[str, float]:
        predictions = prediction.predictions
        outputs = predictions[0] if isinstance(predictions, tuple) else predictions
        return {"pearson": pearson(np.asarray(prediction.label_ids), _predict(None, outputs))}

    def distillation_loss(self, weights, student, teacher, labels: dict, attention_mask, hidden):
        return regression_loss(weights, student.logits, teacher.logits, labels["labels"], hidden)

    def quality(self, data: ScoredData, logits: np.ndarray, model) -> dict[str, float]:
        return regression_metrics(data.validation.labels, _predict(model, logits))

    def read_validation(self, folder: Path, info: dict) -> ScoredData:
        validation = text_export.read_validation(Path(folder) / self.validation_file, float)
        split = Split(validation.texts, validation.labels.tolist(), validation.pairs)
        return ScoredData(Split(), split, {"source": self.validation_file, "validation_examples": len(split)})

    def read_export_validation(self, student, config):
        return text_export.read_validation(student.folder / self.validation_file, float, config.max_validation_examples)

    def scoring(self, student) -> text_export.Scoring:
        return text_export.Scoring(_predict, regression_metrics, student.info.get("headline", self.headline))
