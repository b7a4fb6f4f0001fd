"""What classification and regression share as `distill` tasks (`distill.task_protocol.Task`): texts
or text pairs from the same sources, a sequence-classification head (one output for regression),
the same features, evaluation and export path. A subclass says how labels are read and how the
outputs are scored (`quality`, `scoring`), and supplies its losses and models."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from transformers import DataCollatorWithPadding
from transformers.modeling_outputs import SequenceClassifierOutput

from distill.data import DataError
from distill.evaluate import model_row
from distill.jsonl import write_jsonl
from distill.task_protocol import DataOptions, OptionValues, fields_of
from distill.tasks.text import export as text_export
from distill.tasks.text.data import DataConfig
from distill.tasks.text.evaluate import predict
from distill.tasks.text.features import TextDataset
from distill.tasks.text.glue import glue_format
from distill.tasks.text.heads import load_sequence_model


@dataclass(frozen=True)
class TextOptions:
    max_seq_len: int = 128  # tokens per text (or pair); longer ones are truncated, the longer text first
    metric: str | None = None  # the headline metric (None: the data format's, else the task's)
    # a new teacher head reads: "cls" pooler (default: the default builds are measured with it), "mean" token
    # state, "auto" (mean where the teacher declares mean pooling; distill.tasks.text.heads)
    teacher_head: str = "cls"


class TextTask:
    """The hooks classification and regression share; subclasses set the identity attributes."""

    name: str
    metrics: tuple[tuple[str, str], ...]
    headline: str
    validation_file = "validation.jsonl"
    label_keys = ("labels",)
    group_by_length = False  # shuffled freely (sentences are short)

    def make_options(self, values: OptionValues) -> TextOptions:
        return TextOptions(values.max_seq_len or TextOptions.max_seq_len, values.metric,
                           values.teacher_head or TextOptions.teacher_head)

    def data_config(self, options: DataOptions) -> DataConfig:
        return DataConfig(**fields_of(DataConfig, vars(options)))

    def adapt_options(self, options: TextOptions, data) -> TextOptions:
        """The headline metric: as asked, else the one GLUE reports for the data's format."""
        metric = options.metric
        if metric is None:
            layout = data.description.get("format")
            metric = glue_format(layout).metric if layout else self.headline
        if metric not in [key for key, _ in self.metrics]:
            raise DataError(f"--metric {metric!r} is not a {self.name} metric; choose one of "
                            f"{', '.join(key for key, _ in self.metrics)}")
        return replace(options, metric=metric)

    def info(self, options: TextOptions, data) -> dict:
        return {"max_seq_len": options.max_seq_len, "labels": self.label_names(data),
                "pairs": data.validation.pairs is not None, "headline": options.metric or self.headline}

    def options_from_info(self, info: dict) -> TextOptions:
        return TextOptions(info["max_seq_len"], info.get("headline"))

    def label_names(self, data) -> list[str]:
        return list(data.label_names)

    def load_model(self, folder: str, **kwargs):
        return load_sequence_model(folder, **kwargs)

    def teacher_targets(self, teacher, data, options, run_dir: Path):
        return None  # the teacher runs at each step (or `TrainConfig.cache_teacher` keeps its outputs)

    def datasets(self, tokenizer, data, options: TextOptions, seed: int):
        validation = TextDataset(tokenizer, data.validation, options.max_seq_len) if data.validation else None
        return TextDataset(tokenizer, data.train, options.max_seq_len), validation

    def collator(self, tokenizer):
        return DataCollatorWithPadding(tokenizer)

    def eval_outputs(self, outputs) -> SequenceClassifierOutput:
        return SequenceClassifierOutput(logits=outputs.logits)

    def write_validation(self, folder: Path, data) -> None:
        write_jsonl(Path(folder) / self.validation_file, data.validation_rows())

    def quality(self, data, logits, model) -> dict[str, float]:
        raise NotImplementedError

    def evaluate(self, models: list, tokenizer, data, options: TextOptions, config) -> list[dict]:
        rows = []
        for name, model in models:
            logits, latency = predict(name, model, tokenizer, data.validation, options.max_seq_len, config)
            rows.append(model_row(name, model, self.quality(data, logits, model), latency))
        return rows

    def scoring(self, student) -> text_export.Scoring:
        raise NotImplementedError

    def read_export_validation(self, student, config) -> text_export.ValidationSet:
        raise NotImplementedError

    def export_inputs(self, staging: Path, student, config):
        return text_export.prepare_inputs(staging, student, self.read_export_validation(student, config), config)

    def reference(self, student, inputs):
        return text_export.reference(student, inputs, self.scoring(student))

    def chain_rows(self, student, inputs, variants: dict, config):
        return text_export.chain_rows(student, inputs, variants, config, self.scoring(student))

    def manifest_fields(self, info: dict) -> dict:
        return {"pairs": bool(info.get("pairs", False)), "headline_metric": info.get("headline", self.headline)}
