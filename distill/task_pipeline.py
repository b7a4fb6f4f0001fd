"""The steps behind the CLI, for every task: fine-tune the teacher, distil the student, evaluate
both, report. Each step takes the task (`distill.tasks`), typed configs and paths and returns
values; the CLI only parses options. Under torchrun every process trains, and only the main
process writes files and evaluates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import set_seed

from distill import run_report as reporting
from distill.calibration import write_calibration
from distill.devices import barrier, compute_device, is_main_process, place
from distill.distillation_trainer import TrainConfig, TrainResult, train, training_summary
from distill.evaluate import EvalConfig
from distill.intermediate import IntermediateConfig
from distill.losses import LossWeights
from distill.student import StudentError
from distill.student_info import read_general_info, read_info, write_info
from distill.task_protocol import OptionValues, Task, TaskData
from distill.tasks.registry import get_task
from distill.teacher import load_tokenizer, resolve_teacher


@dataclass(frozen=True)
class StudentConfig:
    layers: int | tuple[int, ...] | None = None  # a count (None: half the teacher's layers) or the teacher layers to take
    weights: LossWeights = LossWeights()
    init: Path | None = None  # a general student (`distill general`) to start from instead of teacher layers
    intermediate: IntermediateConfig = IntermediateConfig()  # TinyBERT / MiniLM layer terms (distill.intermediate)


@dataclass(frozen=True)
class RunConfig:
    teacher: str
    data: Any  # the task's data config (`Task.data_config`)
    output: Path
    task: str | None = None  # a name of `distill.tasks.registry`; None: text classification
    options: Any = None  # the task's settings (`Task.make_options`); None: its defaults
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
    init: Path | None = None  # the general student it started from


def finetune_teacher(task: Task, name: str, data: TaskData, options: Any, config: TrainConfig,
                     output: Path) -> Teacher:
    """Train the teacher's task head (new when it has none) and save it into `output`."""
    location = resolve_teacher(name)
    tokenizer = load_tokenizer(location)
    set_seed(config.seed)
    model = task.load_teacher(location, data, options)
    output = Path(output)
    result = train(task, model, tokenizer, task.datasets(tokenizer, data, options, config.seed), config,
                   output.parent / "checkpoints" / "teacher", output.parent / "logs" / "teacher")
    return save_teacher(Teacher(model, tokenizer, name, output.resolve(), result))


def save_teacher(teacher: Teacher) -> Teacher:
    """Save a fine-tuned teacher (model and tokenizer) into its checkpoint folder (main process)."""
    if is_main_process():
        teacher.model.save_pretrained(str(teacher.checkpoint))
        teacher.tokenizer.save_pretrained(str(teacher.checkpoint))
    barrier()
    return teacher


def obtain_teacher(task: Task, name: str, data: TaskData, options: Any, config: TrainConfig,
                   output: Path) -> Teacher:
    """The teacher as-is when it already has the task's head, else a fine-tuned copy in `output`."""
    location = resolve_teacher(name)
    if not task.teacher_has_head(location, data):
        return finetune_teacher(task, name, data, options, config, output)
    checkpoint = Path(location) if Path(location).is_dir() else None
    return Teacher(task.load_model(location), load_tokenizer(location), name, checkpoint)


def distill_student(task: Task, teacher: Teacher, data: TaskData, options: Any, config: TrainConfig,
                    student: StudentConfig, output: Path, run_dir: Path) -> StudentResult:
    """Build the student from the teacher, distil it, and save it per the student contract."""
    set_seed(config.seed)
    model, mapping = initial_student(task, teacher, data, student)
    datasets = task.datasets(teacher.tokenizer, data, options, config.seed)
    # outputs computed before training serve the output terms only, not hidden-state or attention terms
    stored = (task.teacher_targets(teacher, data, options, run_dir)
              if student.weights.alpha_cos == 0 and not student.intermediate.on else None)
    result = train(task, model, teacher.tokenizer, datasets,
                   config, run_dir / "checkpoints" / "student", run_dir / "logs" / "student",
                   teacher=teacher.model, weights=student.weights, layer_map=mapping, intermediate=student.intermediate,
                   cache=stored)
    outcome = StudentResult(Path(output), mapping, result, _last_evaluation(task, result), student.init)
    if is_main_process():
        save_student(task, model, teacher, data, options, outcome)
        write_calibration(outcome.folder, datasets[0], seed=config.seed)
    barrier()
    return outcome


def initial_student(task: Task, teacher: Teacher, data: TaskData, student: StudentConfig):
    """The task student and its layer map: from the teacher's layers, or from a general student
    (whose layer map then pairs its layers with the teacher's for the hidden-state loss)."""
    teacher_layers = teacher.model.config.num_hidden_layers
    if student.init is None:
        return task.build_student(teacher.model, student.layers or max(1, teacher_layers // 2), data)
    try:
        mapping = read_general_info(student.init)["layer_map"]
    except FileNotFoundError as error:
        raise StudentError(str(error)) from None
    if student.layers not in (None, len(mapping)) or max(mapping) >= teacher_layers:
        raise StudentError(f"the general student {student.init} has {len(mapping)} layers mapped to teacher layers "
                           f"{mapping}; it cannot serve --student-layers {student.layers} with a "
                           f"{teacher_layers}-layer teacher")
    return task.student_from(str(student.init), data), mapping


def _last_evaluation(task: Task, result: TrainResult) -> dict:
    """The task metrics of the last evaluation during training (when the task evaluates then)."""
    logged = {key: [h[f"eval_{key}"] for h in result.history if f"eval_{key}" in h] for key, _ in task.metrics}
    return {key: values[-1] for key, values in logged.items() if values}


def save_student(task: Task, model, teacher: Teacher, data: TaskData, options: Any, outcome: StudentResult) -> None:
    folder = outcome.folder
    model.save_pretrained(str(folder))
    teacher.tokenizer.save_pretrained(str(folder))
    task.write_validation(folder, data)
    info = {
        "task": task.name, "teacher": teacher.name,
        "teacher_dir": str(teacher.checkpoint) if teacher.checkpoint else None,
        "student_layers": len(outcome.layer_map), "layer_map": outcome.layer_map,
        **task.info(options, data), "metrics": outcome.metrics,
        **({"student_init": str(Path(outcome.init).resolve())} if outcome.init else {}),
    }
    write_info(folder, info)


def evaluate_pair(task: Task, teacher, student, tokenizer, data: TaskData, options: Any,
                  config: EvalConfig) -> list[dict]:
    """The teacher's and the student's report rows on the validation split."""
    models = [(reporting.TEACHER_ROW, teacher), (reporting.STUDENT_ROW, student)]
    return task.evaluate(models, tokenizer, data, options, config)


def build_report(task: Task, info: dict, data_description: dict, rows: list[dict], training: dict, folder: Path,
                 histories: dict[str, list[dict]]) -> dict:
    """Assemble report.json's content, draw the plots, write report.json and report.md."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = reporting.keys(task.metrics)
    plots = [reporting.plot_comparison(rows, folder, keys[0])]
    if any(histories.values()):
        plots.insert(0, reporting.plot_curves(histories, folder))
    report = {
        "task": task.name, "headline": info.get("headline", task.headline), "teacher": info["teacher"],
        "data": data_description,
        "student_layers": info["student_layers"], "layer_map": info["layer_map"], "models": rows,
        **reporting.summarise(rows[0], rows[1], keys), "training": training, "plots": plots,
    }
    reporting.write_report(report, folder, task.metrics)
    return report


def update_student_metrics(task: Task, student_dir: Path, rows: list[dict]) -> dict:
    """Record the evaluated quality in the student's distill_info.json; returns the updated info."""
    info = read_info(student_dir)
    teacher_row, student_row = rows
    keys = reporting.keys(task.metrics)
    keys = [k for k in keys if k in student_row]  # positive_f1 exists for two classes only
    info["metrics"] = {**{k: student_row[k] for k in keys}, **{f"teacher_{k}": teacher_row[k] for k in keys}}
    write_info(student_dir, info)
    return info


def run(config: RunConfig, data: TaskData | None = None) -> dict | None:
    """teacher (fine-tuned if needed) -> student -> evaluation -> report, all under config.output;
    `data`: the task's data when the caller has already loaded `config.data`."""
    task = get_task(config.task)
    out = Path(config.output)
    start = time.perf_counter()
    data = task.load_data(config.data) if data is None else data
    options = task.adapt_options(config.options or task.make_options(OptionValues()), data)
    teacher = obtain_teacher(task, config.teacher, data, options, config.teacher_train, out / "teacher")
    outcome = distill_student(task, teacher, data, options, config.train, config.student, out / "student", out)
    if not is_main_process():
        return None
    device = compute_device()
    student = task.load_model(str(outcome.folder))
    place(device, teacher.model.float(), student)
    rows = evaluate_pair(task, teacher.model, student, teacher.tokenizer, data, options, config.evaluation)
    return finish_run(task, teacher, outcome, rows, data.description, out, start)


def finish_run(task: Task, teacher: Teacher, outcome: StudentResult, rows: list[dict], data_description: dict,
               out: Path, start: float) -> dict:
    """Record the evaluated rows in the student and write the run's report."""
    info = update_student_metrics(task, outcome.folder, rows)
    training = {"student": training_summary(outcome.training)}
    histories = {"student": outcome.training.history}
    if teacher.training is not None:
        training["teacher"] = training_summary(teacher.training)
        histories["teacher"] = teacher.training.history
    report = build_report(task, info, data_description, rows, training, out, histories)
    report["wall_seconds"] = round(time.perf_counter() - start, 1)
    reporting.write_report(report, out, task.metrics)
    return report
