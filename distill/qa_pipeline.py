"""The question-answering steps behind `distill run --task question-answering`: fine-tune the
teacher's span head, distil a DistilBERT span student, evaluate both on whole contexts, report.

The run directory and the report follow docs/CONTRACTS.md; the student folder holds
`validation_qa.jsonl` (the SQuAD-like validation split) instead of `validation.jsonl`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from transformers import AutoModelForQuestionAnswering, set_seed

from distill import report as reporting
from distill.evaluate import EvalConfig
from distill.jsonl import read_jsonl, write_jsonl
from distill.student_info import write_info
from distill.pipeline import (
    StudentConfig, StudentResult, Teacher, _barrier, finish_run, is_main_process, save_teacher,
)
from distill.qa_evaluate import QAEvalConfig, evaluate_span_model
from distill.qa_trainer import train_span_model
from distill.student import build_span_student
from distill.tasks.qa_data import QAData, QADataConfig, QAExample, load_qa_data
from distill.tasks.qa_features import WindowConfig, Windows, drop_answerless, make_windows
from distill.tasks.qa_metrics import TASK, SpanConfig
from distill.teacher import has_span_head, load_question_answerer, load_tokenizer, resolve_teacher
from distill.trainer import TrainConfig

VALIDATION_FILE = "validation_qa.jsonl"


@dataclass(frozen=True)
class QAOptions:
    windows: WindowConfig = field(default_factory=WindowConfig)
    spans: SpanConfig = field(default_factory=SpanConfig)
    keep_answerless: float = 1.0  # share of answerless training windows kept (seeded)


@dataclass(frozen=True)
class QARunConfig:
    teacher: str
    data: QADataConfig
    output: Path
    qa: QAOptions = field(default_factory=QAOptions)
    train: TrainConfig = TrainConfig()  # the student's distillation
    teacher_train: TrainConfig = TrainConfig()  # the teacher's fine-tuning, when it has no span head
    student: StudentConfig = StudentConfig()
    evaluation: EvalConfig = EvalConfig()


def training_windows(tokenizer, data: QAData, options: QAOptions, seed: int) -> Windows:
    return drop_answerless(make_windows(tokenizer, data.train, options.windows), options.keep_answerless, seed)


def finetune_span_teacher(name: str, data: QAData, options: QAOptions, config: TrainConfig, output: Path) -> Teacher:
    """Train the teacher's span head (new when it has none) and save it into `output`."""
    location = resolve_teacher(name)
    tokenizer = load_tokenizer(location)
    set_seed(config.seed)
    model = load_question_answerer(location)
    output = Path(output)
    result = train_span_model(model, tokenizer, training_windows(tokenizer, data, options, config.seed), config,
                              output.parent / "checkpoints" / "teacher", output.parent / "logs" / "teacher")
    return save_teacher(Teacher(model, tokenizer, name, output.resolve(), result))


def obtain_span_teacher(name: str, data: QAData, options: QAOptions, config: TrainConfig, output: Path) -> Teacher:
    """The teacher as-is when it already has a span head, else a fine-tuned copy in `output`."""
    location = resolve_teacher(name)
    if not has_span_head(location):
        return finetune_span_teacher(name, data, options, config, output)
    checkpoint = Path(location) if Path(location).is_dir() else None
    return Teacher(load_question_answerer(location), load_tokenizer(location), name, checkpoint)


def distill_span_student(teacher: Teacher, data: QAData, options: QAOptions, config: TrainConfig,
                         student: StudentConfig, output: Path, run_dir: Path) -> StudentResult:
    """Build the span student from the teacher, distil it, and save it per the student contract."""
    set_seed(config.seed)
    layers = student.layers or max(1, teacher.model.config.num_hidden_layers // 2)
    model, mapping = build_span_student(teacher.model, layers)
    windows = training_windows(teacher.tokenizer, data, options, config.seed)
    result = train_span_model(model, teacher.tokenizer, windows, config, run_dir / "checkpoints" / "student",
                              run_dir / "logs" / "student", teacher=teacher.model, weights=student.weights,
                              layer_map=mapping)
    outcome = StudentResult(Path(output), mapping, result)
    if is_main_process():
        save_span_student(model, teacher, data, options, outcome)
    _barrier()
    return outcome


def span_info(options: QAOptions) -> dict:
    """The window and answer settings recorded in distill_info.json (read back by `options_of`)."""
    w, s = options.windows, options.spans
    return {"max_seq_len": w.max_seq_len, "doc_stride": w.doc_stride, "max_question_len": w.max_question_len,
            "max_answer_len": s.max_answer_len, "null_threshold": s.null_threshold,
            "handle_impossible_answer": s.allow_impossible}


def options_of(info: dict) -> QAOptions:
    windows = WindowConfig(info["max_seq_len"], info["doc_stride"], info["max_question_len"])
    spans = SpanConfig(max_answer_len=info["max_answer_len"], null_threshold=info["null_threshold"],
                       allow_impossible=info["handle_impossible_answer"])
    return QAOptions(windows, spans)


def save_span_student(model, teacher: Teacher, data: QAData, options: QAOptions, outcome: StudentResult) -> None:
    folder = outcome.folder
    model.save_pretrained(str(folder))
    teacher.tokenizer.save_pretrained(str(folder))
    write_jsonl(folder / VALIDATION_FILE, (example.as_record() for example in data.validation))
    info = {
        "task": TASK, "teacher": teacher.name,
        "teacher_dir": str(teacher.checkpoint) if teacher.checkpoint else None,
        "student_layers": len(outcome.layer_map), "layer_map": outcome.layer_map,
        **span_info(options), "metrics": outcome.metrics,
    }
    write_info(folder, info)


def read_qa_validation(student_dir: Path, limit: int | None = None) -> list[QAExample]:
    examples = [QAExample.from_record(record) for record in read_jsonl(Path(student_dir) / VALIDATION_FILE)]
    return examples[:limit] if limit is not None else examples


def evaluate_span_pair(teacher, student, tokenizer, examples: list[QAExample], config: QAEvalConfig) -> list[dict]:
    windows = make_windows(tokenizer, examples, config.windows)
    pad_id = tokenizer.pad_token_id or 0
    return [evaluate_span_model(name, model, examples, windows, pad_id, config)
            for name, model in ((reporting.TEACHER_ROW, teacher), (reporting.STUDENT_ROW, student))]


def run_qa(config: QARunConfig) -> dict | None:
    """teacher (fine-tuned if needed) -> student -> evaluation -> report, all under config.output."""
    out = Path(config.output)
    start = time.perf_counter()
    data = load_qa_data(config.data)
    options = with_impossible(config.qa, data)
    teacher = obtain_span_teacher(config.teacher, data, options, config.teacher_train, out / "teacher")
    outcome = distill_span_student(teacher, data, options, config.train, config.student, out / "student", out)
    if not is_main_process():
        return None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    student = AutoModelForQuestionAnswering.from_pretrained(str(outcome.folder)).to(device)
    evaluation = QAEvalConfig(options.windows, options.spans, config.evaluation)
    rows = evaluate_span_pair(teacher.model.float().to(device), student, teacher.tokenizer, data.validation, evaluation)
    return finish_run(teacher, outcome, rows, data.description, out, start)


def with_impossible(options: QAOptions, data: QAData) -> QAOptions:
    """SQuAD v2-style data (some questions without an answer) make the empty answer possible."""
    if not data.has_impossible:
        return options
    return replace(options, spans=replace(options.spans, allow_impossible=True))

