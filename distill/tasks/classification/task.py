"""Text classification as a `distill` task (`distill.task_protocol.Task`): labelled texts or text
pairs, a sequence-classification head, KL / cross-entropy on the class logits, and accuracy,
macro-F1, F1 of the positive class and Matthews correlation (the headline: accuracy unless the
data format or --metric says otherwise)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from transformers import DistilBertForSequenceClassification

from distill.losses import distillation_loss
from distill.run_report import CLASSIFICATION_METRICS
from distill.tasks.classification import export, models
from distill.tasks.classification.data import LabelledData, Split, load_data
from distill.tasks.classification.metrics import accuracy, classification_metrics
from distill.tasks.text.task import TextOptions, TextTask
from modelfolder.manifest import CLASSIFICATION

__all__ = ["ClassificationTask", "TextOptions"]


class ClassificationTask(TextTask):
    name = CLASSIFICATION
    metrics = CLASSIFICATION_METRICS
    headline = "accuracy"

    load_data = staticmethod(load_data)

    def teacher_has_head(self, location: str, data: LabelledData) -> bool:
        return not models.needs_finetuning(location, data.label_names)

    def missing_head_message(self, teacher: str, data: LabelledData) -> str:
        return (f"teacher {teacher!r} has no head for the labels {data.label_names}; "
                "run `distill teacher` first (or `distill run`)")

    def load_teacher(self, location: str, data: LabelledData, options: TextOptions | None = None):
        return models.load_classifier(location, data.label_names, (options or TextOptions()).teacher_head)

    def labels_of(self, model, info: dict, where: Path) -> list[str]:
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if info.get("labels") and list(info["labels"]) != labels:
            raise ValueError(f"{where}: labels {info['labels']} differ from config {labels}")
        return labels

    def build_student(self, teacher, layers: int, data: LabelledData):
        return models.build_student(teacher, layers, data.label_names)

    def student_from(self, general_student: str, data: LabelledData):
        """The task student from a general student's encoder (a new classification head)."""
        names = data.label_names
        return DistilBertForSequenceClassification.from_pretrained(
            general_student, num_labels=len(names), id2label=dict(enumerate(names)),
            label2id={name: i for i, name in enumerate(names)})

    def trainer_metrics(self, prediction) -> dict[str, float]:
        predictions = prediction.predictions
        logits = predictions[0] if isinstance(predictions, tuple) else predictions
        return {"accuracy": accuracy(np.asarray(prediction.label_ids), np.argmax(logits, axis=-1))}

    def distillation_loss(self, weights, student, teacher, labels: dict, attention_mask, hidden):
        logits = student.logits
        return distillation_loss(weights, logits, teacher.logits.to(logits.dtype), labels["labels"], hidden)

    def quality(self, data: LabelledData, logits: np.ndarray, model) -> dict[str, float]:
        predictions = export.predict(model, logits, data.label_names)
        return classification_metrics(np.asarray(data.validation.labels), predictions, len(data.label_names))

    def read_validation(self, folder: Path, info: dict) -> LabelledData:
        """The student's validation split, read by the same reader the export uses."""
        validation = export.read_validation(Path(folder) / self.validation_file, info["labels"])
        split = Split(validation.texts, validation.labels.tolist(), validation.pairs)
        description = {"source": self.validation_file, "validation_examples": len(split), "labels": info["labels"]}
        return LabelledData(Split(), split, info["labels"], description)

    def read_export_validation(self, student, config):
        return export.read_validation(student.folder / self.validation_file, student.labels,
                                      config.max_validation_examples)

    scoring = staticmethod(export.scoring)
