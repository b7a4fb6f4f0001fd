"""The `distill` commands for every task: teacher, student, evaluate, run and export. Each parses
its options into typed configs, asks the task registry for the task, and calls `distill.task_pipeline`."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from distill import task_pipeline
from distill.cli import options as opt
from distill.cli.common import export_student, print_summary, user_errors
from distill.evaluate import EvalConfig
from distill.export.static_int8 import CalibrationSettings
from distill.export.variants import VARIANTS
from distill.student_info import info_path, read_info
from distill.task_protocol import DataOptions
from distill.tasks.embeddings.data import EmbeddingDataConfig
from distill.tasks.embeddings.general import embedding_student
from distill.tasks.embeddings.task import EmbeddingOptions
from distill.teacher import TeacherError, load_tokenizer, resolve_teacher


def _task_and_data(o: dict):
    """The task, its loaded data and its settings (adapted to the data) from the command's options."""
    kind = opt.task_of(o["task"], o)
    loaded = kind.load_data(kind.data_config(opt.data_options(o)))
    return kind, loaded, kind.adapt_options(kind.make_options(opt.option_values(o)), loaded)


@opt.takes(opt.OUTPUT, opt.DATA, opt.EPOCHS, opt.TRAINING, opt.SETTINGS)
def teacher(**o) -> None:
    """Fine-tune the teacher on the data's labels (or its span head for question answering);
    saves OUTPUT/teacher (checkpoint + tokenizer)."""
    with user_errors():
        config = opt.train_config(o)
        kind, loaded, options = _task_and_data(o)
        result = task_pipeline.finetune_teacher(kind, o["teacher"], loaded, options, config, o["output"] / "teacher")
    typer.echo(f"teacher saved to {result.checkpoint}")


@opt.takes(opt.OUTPUT, opt.DATA, opt.EPOCHS, opt.TRAINING, opt.STUDENT, opt.SETTINGS)
def student(**o) -> None:
    """Distil a DistilBERT student from a teacher that already has a head for the data's labels (or a
    span head); saves OUTPUT/student (checkpoint, tokenizer, distill_info.json, validation file)."""
    output, name = o["output"], o["teacher"]
    with user_errors():
        config = opt.train_config(o)
        choice = task_pipeline.StudentConfig(o["student_layers"], opt.loss_weights(o), o["student_init"])
        kind, loaded, options = _task_and_data(o)
        if not kind.teacher_has_head(resolve_teacher(name), loaded):
            raise TeacherError(kind.missing_head_message(name, loaded))
        found = task_pipeline.obtain_teacher(kind, name, loaded, options, config, output / "teacher")
        result = task_pipeline.distill_student(kind, found, loaded, options, config, choice, output / "student",
                                               output)
    typer.echo(f"student ({len(result.layer_map)} layers, map {result.layer_map}) saved to {result.folder}")


def evaluate(
    output: opt.Output,
    teacher: Annotated[str | None, typer.Option(
        "--teacher", help="Teacher checkpoint (default: teacher_dir, else teacher, from distill_info.json).")] = None,
    student_dir: Annotated[Path | None, typer.Option(
        "--student-dir", help="Student folder (default: OUTPUT/student).")] = None,
) -> None:
    """Evaluate teacher and student on the student's validation file (validation.jsonl;
    validation_qa.jsonl for question answering, validation_tokens.jsonl for token classification);
    writes OUTPUT/report.*."""
    folder = student_dir or output / "student"
    with user_errors():
        if not info_path(folder).is_file():
            raise TeacherError(f"{folder} is not a student folder (no distill_info.json)")
        info = read_info(folder)
        kind = opt.task_of(info.get("task"))
        location = resolve_teacher(teacher or info["teacher_dir"] or info["teacher"])
        validation = kind.read_validation(folder, info)
        models = (kind.load_model(location), kind.load_model(str(folder)))
        rows = task_pipeline.evaluate_pair(kind, *models, load_tokenizer(str(folder)), validation,
                                      kind.options_from_info(info), EvalConfig())
        info = task_pipeline.update_student_metrics(kind, folder, rows)
        report = task_pipeline.build_report(kind, info, validation.description, rows, {}, output, {})
    print_summary(kind, report)


@opt.takes(opt.OUTPUT, opt.DATA, opt.EPOCHS, opt.TEACHER_EPOCHS, opt.TRAINING, opt.STUDENT, opt.SETTINGS, opt.EXPORT_TO)
def run(**o) -> None:
    """Everything: fine-tune the teacher if it needs it, distil the student, evaluate both and
    write the report; OUTPUT/student is then ready for `distill export`."""
    kind, output = opt.task_of(o["task"], o), o["output"]
    with user_errors():
        train = opt.train_config(o)
        report = task_pipeline.run(task_pipeline.RunConfig(
            teacher=o["teacher"], output=output, task=kind.name, options=kind.make_options(opt.option_values(o)),
            data=kind.data_config(opt.data_options(o)), train=train,
            teacher_train=replace(train, epochs=o["teacher_epochs"]),
            student=task_pipeline.StudentConfig(o["student_layers"], opt.loss_weights(o), o["student_init"]),
        ))
    if report is None:  # a non-main process under torchrun
        return
    print_summary(kind, report)
    typer.echo(f"report: {output / 'report.md'}; student: {output / 'student'}")
    if o["export_to"] is not None:
        export_student(output / "student", o["export_to"], None, VARIANTS, _teacher_dir(output), output, None)


def _teacher_dir(output: Path) -> Path | None:
    info = read_info(output / "student")
    return Path(info["teacher_dir"]) if info.get("teacher_dir") else None


def export(
    student_dir: Annotated[Path, typer.Option("--student-dir", help="A student folder made by `distill student`/`run`.")],
    output_dir: Annotated[Path, typer.Option("--output-dir", help="The model folder to write (e.g. models/sentiment).")],
    name: opt.ExportName = None, variants: opt.Variants = ",".join(VARIANTS),
    teacher_dir: Annotated[Path | None, typer.Option(
        "--teacher-dir", help="Teacher checkpoint, to record teacher metrics (optional).")] = None,
    report_dir: Annotated[Path | None, typer.Option(
        "--report-dir", help="Run directory whose report.json gets the ONNX rows appended (optional).")] = None,
    max_validation_examples: opt.MaxValidation = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the model folder when it exists and is not empty.")] = False,
    embeddings: Annotated[bool, typer.Option(
        "--embeddings", help="--student-dir is a general student (`distill general`): export its encoder as a "
        "sentence-embedding model (task feature-extraction) with its teacher's pooling, without training.")] = False,
    data: Annotated[str, typer.Option(
        "--data", help="With --embeddings: the text whose held-out sentences check the export "
        "(as `distill run --task feature-extraction --data`).")] = DataOptions.source,
    sts_data: opt.StsData = None,
    max_seq_len: opt.MaxSeqLen = None,
    calibration_method: opt.CalibrationMethod = CalibrationSettings.method,
) -> None:
    """Export a student to an ONNX model folder with its manifest, checked against PyTorch."""
    chosen = opt.variants_tuple(variants)
    if embeddings:
        with user_errors(), tempfile.TemporaryDirectory() as staging:
            student = embedding_student(student_dir, Path(staging) / "student",
                                        EmbeddingDataConfig(source=data, sts_data=sts_data),
                                        max_seq_len or EmbeddingOptions.max_seq_len)
            export_student(student, output_dir, name, chosen, teacher_dir, report_dir, max_validation_examples, overwrite,
                           calibration_method)
        return
    if not info_path(student_dir).is_file():
        raise typer.BadParameter(f"{student_dir} is not a student folder (no distill_info.json)", param_hint="--student-dir")
    export_student(student_dir, output_dir, name, chosen, teacher_dir, report_dir, max_validation_examples, overwrite,
                   calibration_method)
