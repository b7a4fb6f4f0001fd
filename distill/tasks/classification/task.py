"""Text classification as a `distill` task (`distill.tasks.base.Task`): labelled texts, a
sequence-classification head, KL / cross-entropy on the class logits, accuracy and macro-F1."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from transformers import AutoModelForSequenceClassification, DistilBertForSequenceClassification
from transformers.modeling_outputs import SequenceClassifierOutput

from distill.jsonl import write_jsonl
from distill.losses import distillation_loss
from distill.tasks.base import DataOptions, OptionValues, fields_of
from distill.tasks.classification import export, models
from distill.tasks.classification.data import DataConfig, LabelledData, Split, load_data
from distill.tasks.classification.evaluate import evaluate_model
from distill.tasks.classification.features import TextDataset
from distill.tasks.classification.metrics import METRICS, accuracy
from service.manifest import CLASSIFICATION


@dataclass(frozen=True)
class TextOptions:
    max_seq_len: int = 128  # tokens per text; longer texts are truncated


class ClassificationTask:
    name = CLASSIFICATION
    metrics = METRICS
    headline = "accuracy"
    validation_file = "validation.jsonl"
    label_keys = ("labels",)

    def make_options(self, values: OptionValues) -> TextOptions:
        return TextOptions() if values.max_seq_len is None else TextOptions(values.max_seq_len)

    def data_config(self, options: DataOptions) -> DataConfig:
        return DataConfig(**fields_of(DataConfig, vars(options)))

    load_data = staticmethod(load_data)

    def adapt_options(self, options: TextOptions, data: LabelledData) -> TextOptions:
        return options

    def info(self, options: TextOptions, data: LabelledData) -> dict:
        return {"max_seq_len": options.max_seq_len, "labels": data.label_names}

    def options_from_info(self, info: dict) -> TextOptions:
        return TextOptions(info["max_seq_len"])

    def teacher_has_head(self, location: str, data: LabelledData) -> bool:
        return not models.needs_finetuning(location, data.label_names)

    def missing_head_message(self, teacher: str, data: LabelledData) -> str:
        return (f"teacher {teacher!r} has no head for the labels {data.label_names}; "
                "run `distill teacher` first (or `distill run`)")

    def load_teacher(self, location: str, data: LabelledData):
        return models.load_classifier(location, data.label_names)

    def load_model(self, folder: str, **kwargs):
        return AutoModelForSequenceClassification.from_pretrained(folder, **kwargs)

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

    def datasets(self, tokenizer, data: LabelledData, options: TextOptions, seed: int):
        validation = TextDataset(tokenizer, data.validation, options.max_seq_len) if data.validation else None
        return TextDataset(tokenizer, data.train, options.max_seq_len), validation

    def trainer_metrics(self, prediction) -> dict[str, float]:
        predictions = prediction.predictions
        logits = predictions[0] if isinstance(predictions, tuple) else predictions
        return {"accuracy": accuracy(np.asarray(prediction.label_ids), np.argmax(logits, axis=-1))}

    def distillation_loss(self, weights, student, teacher, labels: dict, attention_mask, hidden):
        logits = student.logits
        return distillation_loss(weights, logits, teacher.logits.to(logits.dtype), labels["labels"], hidden)

    def eval_outputs(self, outputs) -> SequenceClassifierOutput:
        return SequenceClassifierOutput(logits=outputs.logits)

    def write_validation(self, folder: Path, data: LabelledData) -> None:
        write_jsonl(Path(folder) / self.validation_file, data.validation_rows())

    def read_validation(self, folder: Path, info: dict) -> LabelledData:
        """The student's validation split, read by the same reader the export uses."""
        validation = export.read_validation(Path(folder) / self.validation_file, info["labels"])
        split = Split(validation.texts, validation.labels.tolist())
        description = {"source": self.validation_file, "validation_examples": len(split), "labels": info["labels"]}
        return LabelledData(Split(), split, info["labels"], description)

    def evaluate(self, models: list, tokenizer, data: LabelledData, options: TextOptions, config) -> list[dict]:
        return [evaluate_model(name, model, tokenizer, data.validation, len(data.label_names), options.max_seq_len,
                               config) for name, model in models]

    def export_inputs(self, staging: Path, student, config):
        return export.prepare_inputs(staging, student, self.validation_file, config)

    reference = staticmethod(export.reference)
    chain_rows = staticmethod(export.chain_rows)

    def manifest_fields(self, info: dict) -> dict:
        return {}
