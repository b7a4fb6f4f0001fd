"""The steps behind the CLI: fine-tune the teacher, distil the student, evaluate both, report.

Each step takes typed configs and paths and returns values; the CLI only parses options.
Under torchrun every process trains, and only the main process writes files and evaluates.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, set_seed

from distill import onnx_inputs
from distill import report as reporting
from distill.data import DataConfig, LabelledData, Split, load_data
from distill.evaluate import EvalConfig, evaluate_model
from distill.jsonl import write_jsonl
from distill.losses import LossWeights
from distill.student import build_student
from distill.student_info import read_info, write_info
from distill.tasks.classification import TASK
from distill.teacher import load_classifier, load_tokenizer, needs_finetuning, resolve_teacher
from distill.trainer import TrainConfig, TrainResult, train_model


@dataclass(frozen=True)
class StudentConfig:
    layers: int | None = None  # None: half the teacher's layers
    weights: LossWeights = LossWeights()


@dataclass(frozen=True)
class RunConfig:
    teacher: str
    data: DataConfig
    output: Path
    train: TrainConfig = TrainConfig()  # the student's distillation
    teacher_train: TrainConfig = TrainConfig()  # the teacher's fine-tuning, when it needs one
    student: StudentConfig = StudentConfig()
    evaluation: EvalConfig = EvalConfig()


@dataclass
class Teacher:
    model: torch.nn.Module
    tokenizer: object
    name: str  # as the user gave it
    checkpoint: Path | None  # the fine-tuned checkpoint, when this run or an earlier one made it
    training: TrainResult | None = None


@dataclass
class StudentResult:
    folder: Path
    layer_map: list[int]
    training: TrainResult
    metrics: dict = field(default_factory=dict)


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _barrier() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()


def finetune_teacher(name: str, data: LabelledData, config: TrainConfig, output: Path) -> Teacher:
    """Fine-tune `name` on the data's labels (a new head) and save it into `output`."""
    location = resolve_teacher(name)
    tokenizer = load_tokenizer(location)
    set_seed(config.seed)
    model = load_classifier(location, data.label_names)
    output = Path(output)
    result = train_model(model, tokenizer, data.train, data.validation, config,
                         output.parent / "checkpoints" / "teacher", output.parent / "logs" / "teacher")
    return save_teacher(Teacher(model, tokenizer, name, output.resolve(), result))


def save_teacher(teacher: Teacher) -> Teacher:
    """Save a fine-tuned teacher (model and tokenizer) into its checkpoint folder (main process)."""
    if is_main_process():
        teacher.model.save_pretrained(str(teacher.checkpoint))
        teacher.tokenizer.save_pretrained(str(teacher.checkpoint))
    _barrier()
    return teacher


def obtain_teacher(name: str, data: LabelledData, config: TrainConfig, output: Path) -> Teacher:
    """The teacher as-is when its head matches the data's labels, else a fine-tuned copy in `output`."""
    location = resolve_teacher(name)
    if needs_finetuning(location, data.label_names):
        return finetune_teacher(name, data, config, output)
    model = AutoModelForSequenceClassification.from_pretrained(location)
    checkpoint = Path(location) if Path(location).is_dir() else None
    return Teacher(model, load_tokenizer(location), name, checkpoint)


def distill_student(teacher: Teacher, data: LabelledData, config: TrainConfig, student: StudentConfig,
                    output: Path, run_dir: Path) -> StudentResult:
    """Build the student from the teacher, distil it, and save it per the student contract."""
    set_seed(config.seed)
    layers = student.layers or max(1, teacher.model.config.num_hidden_layers // 2)
    model, mapping = build_student(teacher.model, layers, data.label_names)
    result = train_model(model, teacher.tokenizer, data.train, data.validation, config,
                         run_dir / "checkpoints" / "student", run_dir / "logs" / "student",
                         teacher=teacher.model, weights=student.weights, layer_map=mapping)
    evaluations = [h["eval_accuracy"] for h in result.history if "eval_accuracy" in h]
    outcome = StudentResult(Path(output), mapping, result, {"accuracy": evaluations[-1]} if evaluations else {})
    if is_main_process():
        save_student(model, teacher, data, outcome, config.max_seq_len)
    _barrier()
    return outcome


def save_student(model, teacher: Teacher, data: LabelledData, outcome: StudentResult, max_seq_len: int) -> None:
    folder = outcome.folder
    model.save_pretrained(str(folder))
    teacher.tokenizer.save_pretrained(str(folder))
    write_jsonl(folder / "validation.jsonl", data.validation_rows())
    info = {
        "task": TASK, "teacher": teacher.name,
        "teacher_dir": str(teacher.checkpoint) if teacher.checkpoint else None,
        "student_layers": len(outcome.layer_map), "layer_map": outcome.layer_map,
        "max_seq_len": max_seq_len, "labels": data.label_names, "metrics": outcome.metrics,
    }
    write_info(folder, info)


def read_validation(student_dir: Path, label_names: list[str]) -> Split:
    """The student's validation split, read by the same reader the export uses."""
    validation = onnx_inputs.read_validation(Path(student_dir) / "validation.jsonl", label_names)
    return Split(validation.texts, validation.labels.tolist())


def evaluate_pair(teacher, student, tokenizer, split: Split, label_names: list[str], config: EvalConfig) -> list[dict]:
    rows = []
    for name, model in ((reporting.TEACHER_ROW, teacher), (reporting.STUDENT_ROW, student)):
        rows.append(evaluate_model(name, model, tokenizer, split, len(label_names), config))
    return rows


def build_report(info: dict, data_description: dict, rows: list[dict], training: dict, folder: Path,
                 histories: dict[str, list[dict]]) -> dict:
    """Assemble report.json's content, draw the plots, write report.json and report.md."""
    folder.mkdir(parents=True, exist_ok=True)
    task = info.get("task", TASK)
    metrics = reporting.metric_keys(task)
    plots = [reporting.plot_comparison(rows, folder, metrics[0])]
    if any(histories.values()):
        plots.insert(0, reporting.plot_curves(histories, folder))
    report = {
        "task": task, "teacher": info["teacher"], "data": data_description,
        "student_layers": info["student_layers"], "layer_map": info["layer_map"], "models": rows,
        **reporting.summarise(rows[0], rows[1], metrics), "training": training, "plots": plots,
    }
    reporting.write_report(report, folder)
    return report


def update_student_metrics(student_dir: Path, rows: list[dict]) -> dict:
    """Record the evaluated quality in the student's distill_info.json; returns the updated info."""
    info = read_info(student_dir)
    teacher_row, student_row = rows
    keys = reporting.metric_keys(info.get("task", TASK))
    info["metrics"] = {**{k: student_row[k] for k in keys}, **{f"teacher_{k}": teacher_row[k] for k in keys}}
    write_info(student_dir, info)
    return info


def run(config: RunConfig) -> dict | None:
    """teacher (fine-tuned if needed) -> student -> evaluation -> report, all under config.output."""
    out = Path(config.output)
    start = time.perf_counter()
    data = load_data(config.data)
    teacher = obtain_teacher(config.teacher, data, config.teacher_train, out / "teacher")
    outcome = distill_student(teacher, data, config.train, config.student, out / "student", out)
    if not is_main_process():
        return None
    evaluation = EvalConfig(config.train.max_seq_len, config.evaluation.batch_size,
                            config.evaluation.latency_batch_sizes, config.evaluation.latency)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    student = AutoModelForSequenceClassification.from_pretrained(str(outcome.folder)).to(device)
    rows = evaluate_pair(teacher.model.float().to(device), student, teacher.tokenizer, data.validation,
                         data.label_names, evaluation)
    return finish_run(teacher, outcome, rows, data.description, out, start)


def finish_run(teacher: Teacher, outcome: StudentResult, rows: list[dict], data_description: dict, out: Path,
               start: float) -> dict:
    """Record the evaluated rows in the student and write the run's report (any task)."""
    info = update_student_metrics(outcome.folder, rows)
    training = {"student": _training_summary(outcome.training)}
    histories = {"student": outcome.training.history}
    if teacher.training is not None:
        training["teacher"] = _training_summary(teacher.training)
        histories["teacher"] = teacher.training.history
    report = build_report(info, data_description, rows, training, out, histories)
    report["wall_seconds"] = round(time.perf_counter() - start, 1)
    reporting.write_report(report, out)
    return report


def _training_summary(result: TrainResult) -> dict:
    losses = [h["loss"] for h in result.history if "loss" in h]
    return {"steps": result.steps, "seconds": round(result.seconds, 1),
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "history": result.history}
