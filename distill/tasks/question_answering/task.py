"""Extractive question answering as a `distill` task (`distill.task_protocol.Task`): SQuAD-format
data cut into overlapping windows, a start/end span head, KL / cross-entropy on both heads with
padding masked, and SQuAD exact match and F1 over whole contexts."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoModelForQuestionAnswering, DataCollatorWithPadding, DistilBertForQuestionAnswering
from transformers.modeling_outputs import QuestionAnsweringModelOutput

from distill.data import DataError
from distill.jsonl import read_jsonl, write_jsonl
from distill.task_protocol import DataOptions, OptionValues, fields_of
from distill.tasks.question_answering import export, models
from distill.tasks.question_answering.data import QAData, QADataConfig, QAExample, load_qa_data
from distill.tasks.question_answering.evaluate import evaluate_span_model
from distill.tasks.question_answering.features import WindowConfig, WindowDataset, drop_answerless, make_windows
from distill.tasks.question_answering.losses import span_distillation_loss
from distill.tasks.question_answering.metrics import SpanConfig
from distill.tasks.question_answering.options import QAOptions, options_of, span_info, with_impossible
from modelfolder.manifest import QUESTION_ANSWERING

QA_DEFAULTS = ("doc_stride", "max_question_len", "max_answer_len", "handle_impossible_answer")


class QuestionAnsweringTask:
    name = QUESTION_ANSWERING
    metrics = (("exact_match", "exact match"), ("f1", "F1"))
    headline = "f1"
    validation_file = "validation_qa.jsonl"
    label_keys = ("start_positions", "end_positions")
    group_by_length = True  # windows run from a few dozen tokens to max_seq_len

    def make_options(self, values: OptionValues) -> QAOptions:
        given = {k: v for k, v in vars(values).items() if v is not None}  # the others: the defaults
        if given.get("max_answer_len", 1) < 1:
            raise DataError("--max-answer-len must be at least 1")
        return QAOptions(WindowConfig(**fields_of(WindowConfig, given)), SpanConfig(**fields_of(SpanConfig, given)),
                         **fields_of(QAOptions, given))

    def data_config(self, options: DataOptions) -> QADataConfig:
        if options.source == DataOptions.source:  # the built-in movie reviews
            raise DataError("question answering needs SQuAD-format data (a hub name or SQuAD JSON path)")
        return QADataConfig(**fields_of(QADataConfig, vars(options)))

    load_data = staticmethod(load_qa_data)

    adapt_options = staticmethod(with_impossible)

    def info(self, options: QAOptions, data: QAData) -> dict:
        return span_info(options)

    options_from_info = staticmethod(options_of)

    def teacher_has_head(self, location: str, data: QAData) -> bool:
        return models.has_span_head(location)

    def missing_head_message(self, teacher: str, data: QAData) -> str:
        return (f"teacher {teacher!r} has no question-answering head; run `distill teacher "
                "--task question-answering` first (or `distill run`)")

    def load_teacher(self, location: str, data: QAData, options=None):
        return models.load_question_answerer(location)

    def load_model(self, folder: str, **kwargs):
        return AutoModelForQuestionAnswering.from_pretrained(folder, **kwargs)

    def labels_of(self, model, info: dict, where: Path) -> list[str]:
        return []

    def build_student(self, teacher, layers: int, data: QAData):
        return models.build_span_student(teacher, layers)

    def student_from(self, general_student: str, data: QAData):
        """The task student from a general student's encoder (a new span head)."""
        return DistilBertForQuestionAnswering.from_pretrained(general_student)

    def teacher_targets(self, teacher, data, options, run_dir: Path):
        return None  # the teacher runs at each step (or `TrainConfig.cache_teacher` keeps its outputs)

    def datasets(self, tokenizer, data: QAData, options: QAOptions, seed: int):
        """Training windows (a seeded share of the answerless ones kept) and no evaluation set:
        evaluation runs afterwards on whole contexts, not per window."""
        windows = make_windows(tokenizer, data.train, options.windows)
        return WindowDataset(drop_answerless(windows, options.keep_answerless, seed)), None

    def collator(self, tokenizer):
        return DataCollatorWithPadding(tokenizer)

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

    reference = staticmethod(export.qa_reference)
    chain_rows = staticmethod(export.chain_rows)

    def manifest_fields(self, info: dict) -> dict:
        """The window and span settings of the training, the service's defaults for requests."""
        return {"qa": {key: info[key] for key in QA_DEFAULTS}}
