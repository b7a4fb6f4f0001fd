"""`distill`: fine-tune a BERT teacher, distil a DistilBERT student, evaluate, report and export."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from distill import cli_options as opt
from distill import cli_qa, pipeline, qa_pipeline
from distill.cli_default import build_default
from distill.data import DataError, load_data
from distill.evaluate import EvalConfig
from distill.student import StudentError
from distill.student_info import info_path, read_info
from distill.teacher import TeacherError, needs_finetuning, resolve_teacher

QA = "question-answering"
app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, rich_markup_mode=None)

Output = Annotated[Path, typer.Option("--output", "-o", help="Run directory: teacher/, student/, report.*, logs/ go here.")]
ExportTo = Annotated[Path | None, typer.Option(
    "--export-to", help="After the run, export the student into this model folder (ONNX + manifest).")]


@contextlib.contextmanager
def user_errors():
    """Turn the errors a user can fix into one-line messages with exit code 2, not tracebacks."""
    try:
        yield
    except (DataError, TeacherError, StudentError) as error:
        raise typer.BadParameter(str(error)) from None


@app.command()
def teacher(
    output: Output, task: opt.Task = "text-classification", teacher: opt.Teacher = "minilm",
    data: opt.Data = "movie-reviews", subset: opt.Subset = None,
    validation_data: opt.ValidationData = None, text_column: opt.TextColumn = "text",
    label_column: opt.LabelColumn = "label", validation_fraction: opt.ValidationFraction = 0.1,
    seed: opt.Seed = 42, max_train_examples: opt.MaxTrain = None, max_eval_examples: opt.MaxEval = None,
    epochs: opt.Epochs = 3.0, batch_size: opt.BatchSize = 32, gradient_accumulation: opt.GradAccum = 1,
    learning_rate: opt.LearningRate = 5e-5, warmup_ratio: opt.Warmup = 0.1, weight_decay: opt.WeightDecay = 0.01,
    max_seq_len: opt.MaxSeqLen = None, precision: opt.Precision = "auto", max_steps: opt.MaxSteps = None,
    resume: opt.Resume = False, no_shuffle: opt.NoShuffle = False, logging_steps: opt.LoggingSteps = 10,
    doc_stride: opt.DocStride = 128, max_question_len: opt.MaxQuestionLen = 64, max_answer_len: opt.MaxAnswerLen = 30,
    null_threshold: opt.NullThreshold = 0.0, keep_answerless: opt.KeepAnswerless = 1.0,
    skip_bad_answers: opt.SkipBadAnswers = False,
) -> None:
    """Fine-tune the teacher on the data's labels (or its span head for question answering);
    saves OUTPUT/teacher (checkpoint + tokenizer)."""
    with user_errors():
        max_seq_len = opt.seq_len(max_seq_len, task)
        config = opt.train_config(epochs, batch_size, gradient_accumulation, learning_rate, warmup_ratio,
                                  weight_decay, max_seq_len, seed, precision, max_steps, resume, no_shuffle, logging_steps)
        if task == QA:
            result = cli_qa.teacher(teacher, opt.qa_data_config(
                data, subset, validation_data, validation_fraction, seed, max_train_examples, max_eval_examples,
                skip_bad_answers), opt.qa_options(max_seq_len, doc_stride, max_question_len, max_answer_len,
                                                  null_threshold, keep_answerless), config, output)
        else:
            loaded = load_data(opt.data_config(data, subset, validation_data, text_column, label_column,
                                               validation_fraction, seed, max_train_examples, max_eval_examples))
            result = pipeline.finetune_teacher(teacher, loaded, config, output / "teacher")
    typer.echo(f"teacher saved to {result.checkpoint}")


@app.command()
def student(
    output: Output, task: opt.Task = "text-classification", teacher: opt.Teacher = "minilm",
    data: opt.Data = "movie-reviews", subset: opt.Subset = None,
    validation_data: opt.ValidationData = None, text_column: opt.TextColumn = "text",
    label_column: opt.LabelColumn = "label", validation_fraction: opt.ValidationFraction = 0.1,
    seed: opt.Seed = 42, max_train_examples: opt.MaxTrain = None, max_eval_examples: opt.MaxEval = None,
    epochs: opt.Epochs = 3.0, batch_size: opt.BatchSize = 32, gradient_accumulation: opt.GradAccum = 1,
    learning_rate: opt.LearningRate = 5e-5, warmup_ratio: opt.Warmup = 0.1, weight_decay: opt.WeightDecay = 0.01,
    max_seq_len: opt.MaxSeqLen = None, precision: opt.Precision = "auto", max_steps: opt.MaxSteps = None,
    resume: opt.Resume = False, no_shuffle: opt.NoShuffle = False, logging_steps: opt.LoggingSteps = 10,
    student_layers: opt.StudentLayers = None, temperature: opt.Temperature = 2.0, alpha_kd: opt.AlphaKD = 0.5,
    alpha_ce: opt.AlphaCE = 0.5, alpha_cos: opt.AlphaCos = 0.1,
    doc_stride: opt.DocStride = 128, max_question_len: opt.MaxQuestionLen = 64, max_answer_len: opt.MaxAnswerLen = 30,
    null_threshold: opt.NullThreshold = 0.0, keep_answerless: opt.KeepAnswerless = 1.0,
    skip_bad_answers: opt.SkipBadAnswers = False,
) -> None:
    """Distil a DistilBERT student from a teacher that already has a head for the data's labels (or a
    span head); saves OUTPUT/student (checkpoint, tokenizer, distill_info.json, validation file)."""
    with user_errors():
        max_seq_len = opt.seq_len(max_seq_len, task)
        config = opt.train_config(epochs, batch_size, gradient_accumulation, learning_rate, warmup_ratio,
                                  weight_decay, max_seq_len, seed, precision, max_steps, resume, no_shuffle, logging_steps)
        choice = pipeline.StudentConfig(student_layers, opt.loss_weights(temperature, alpha_kd, alpha_ce, alpha_cos))
        if task == QA:
            result = cli_qa.student(teacher, opt.qa_data_config(
                data, subset, validation_data, validation_fraction, seed, max_train_examples, max_eval_examples,
                skip_bad_answers), opt.qa_options(max_seq_len, doc_stride, max_question_len, max_answer_len,
                                                  null_threshold, keep_answerless), config, choice, output)
        else:
            loaded = load_data(opt.data_config(data, subset, validation_data, text_column, label_column,
                                               validation_fraction, seed, max_train_examples, max_eval_examples))
            if needs_finetuning(resolve_teacher(teacher), loaded.label_names):
                raise TeacherError(f"teacher {teacher!r} has no head for the labels {loaded.label_names}; "
                                   "run `distill teacher` first (or `distill run`)")
            found = pipeline.obtain_teacher(teacher, loaded, config, output / "teacher")
            result = pipeline.distill_student(found, loaded, config, choice, output / "student", output)
    typer.echo(f"student ({len(result.layer_map)} layers, map {result.layer_map}) saved to {result.folder}")


@app.command()
def evaluate(
    output: Output,
    teacher: Annotated[str | None, typer.Option(
        "--teacher", help="Teacher checkpoint (default: teacher_dir, else teacher, from distill_info.json).")] = None,
    student_dir: Annotated[Path | None, typer.Option(
        "--student-dir", help="Student folder (default: OUTPUT/student).")] = None,
) -> None:
    """Evaluate teacher and student on the student's validation file (validation.jsonl, or
    validation_qa.jsonl for question answering); writes OUTPUT/report.*."""
    from transformers import AutoModelForSequenceClassification

    folder = student_dir or output / "student"
    with user_errors():
        if not info_path(folder).is_file():
            raise TeacherError(f"{folder} is not a student folder (no distill_info.json)")
        info = read_info(folder)
        location = resolve_teacher(teacher or info["teacher_dir"] or info["teacher"])
        if info.get("task") == QA:
            _print_summary(cli_qa.evaluate(folder, info, location, output))
            return
        split = pipeline.read_validation(folder, info["labels"])
        tutor = AutoModelForSequenceClassification.from_pretrained(location)
        pupil = AutoModelForSequenceClassification.from_pretrained(str(folder))
        tokenizer = pipeline.load_tokenizer(str(folder))
        rows = pipeline.evaluate_pair(tutor, pupil, tokenizer, split, info["labels"], EvalConfig(info["max_seq_len"]))
        pipeline.update_student_metrics(folder, rows)
        data = {"source": "validation.jsonl", "validation_examples": len(split), "labels": info["labels"]}
        report = pipeline.build_report(info, data, rows, {}, output, {})
    _print_summary(report)


def _print_summary(report: dict) -> None:
    teacher_row, student_row = report["models"][:2]
    metric = "f1" if report.get("task") == QA else "accuracy"
    typer.echo(f"teacher {metric} {teacher_row[metric]:.4f}, student {metric} {student_row[metric]:.4f}, "
               f"retention {report['retention'][metric]:.3f}, speed-up "
               + ", ".join(f"{v}x@{k}" for k, v in report["speedup"].items()))


@app.command()
def run(
    output: Output, task: opt.Task = "text-classification", teacher: opt.Teacher = "minilm",
    data: opt.Data = "movie-reviews", subset: opt.Subset = None,
    validation_data: opt.ValidationData = None, text_column: opt.TextColumn = "text",
    label_column: opt.LabelColumn = "label", validation_fraction: opt.ValidationFraction = 0.1,
    seed: opt.Seed = 42, max_train_examples: opt.MaxTrain = None, max_eval_examples: opt.MaxEval = None,
    epochs: opt.Epochs = 3.0, teacher_epochs: opt.TeacherEpochs = 3.0, batch_size: opt.BatchSize = 32,
    gradient_accumulation: opt.GradAccum = 1, learning_rate: opt.LearningRate = 5e-5,
    warmup_ratio: opt.Warmup = 0.1, weight_decay: opt.WeightDecay = 0.01, max_seq_len: opt.MaxSeqLen = None,
    precision: opt.Precision = "auto", max_steps: opt.MaxSteps = None, resume: opt.Resume = False,
    no_shuffle: opt.NoShuffle = False, logging_steps: opt.LoggingSteps = 10,
    student_layers: opt.StudentLayers = None, temperature: opt.Temperature = 2.0, alpha_kd: opt.AlphaKD = 0.5,
    alpha_ce: opt.AlphaCE = 0.5, alpha_cos: opt.AlphaCos = 0.1,
    doc_stride: opt.DocStride = 128, max_question_len: opt.MaxQuestionLen = 64, max_answer_len: opt.MaxAnswerLen = 30,
    null_threshold: opt.NullThreshold = 0.0, keep_answerless: opt.KeepAnswerless = 1.0,
    skip_bad_answers: opt.SkipBadAnswers = False,
    export_to: ExportTo = None,
) -> None:
    """Everything: fine-tune the teacher if it needs it, distil the student, evaluate both and
    write the report; OUTPUT/student is then ready for `distill export`."""
    with user_errors():
        max_seq_len = opt.seq_len(max_seq_len, task)
        train = opt.train_config(epochs, batch_size, gradient_accumulation, learning_rate, warmup_ratio,
                                 weight_decay, max_seq_len, seed, precision, max_steps, resume, no_shuffle, logging_steps)
        teacher_train = replace(train, epochs=teacher_epochs)
        choice = pipeline.StudentConfig(student_layers, opt.loss_weights(temperature, alpha_kd, alpha_ce, alpha_cos))
        if task == QA:
            report = qa_pipeline.run_qa(qa_pipeline.QARunConfig(
                teacher=teacher, output=output, train=train, teacher_train=teacher_train, student=choice,
                data=opt.qa_data_config(data, subset, validation_data, validation_fraction, seed, max_train_examples,
                                        max_eval_examples, skip_bad_answers),
                qa=opt.qa_options(max_seq_len, doc_stride, max_question_len, max_answer_len, null_threshold,
                                  keep_answerless),
            ))
        else:
            report = pipeline.run(pipeline.RunConfig(
                teacher=teacher, output=output, train=train, teacher_train=teacher_train, student=choice,
                data=opt.data_config(data, subset, validation_data, text_column, label_column,
                                     validation_fraction, seed, max_train_examples, max_eval_examples),
            ))
    if report is None:  # a non-main process under torchrun
        return
    _print_summary(report)
    typer.echo(f"report: {output / 'report.md'}; student: {output / 'student'}")
    if export_to is not None:
        _export(output / "student", export_to, None, ("fp32", "int8", "fp16"), _teacher_dir(output), output, None)


def _teacher_dir(output: Path) -> Path | None:
    info = read_info(output / "student")
    return Path(info["teacher_dir"]) if info.get("teacher_dir") else None


def _export(student_dir, output_dir, name, variants, teacher_dir, report_dir, max_validation):
    """Call the export step (distill.export), imported only when an export is asked for."""
    from distill.export import ExportConfig, export_model_folder

    config = ExportConfig(student_dir=Path(student_dir), output_dir=Path(output_dir), name=name,
                          variants=tuple(variants), teacher_dir=teacher_dir, report_dir=report_dir,
                          max_validation_examples=max_validation)
    export_model_folder(config)
    typer.echo(f"model folder written to {output_dir}")


@app.command()
def export(
    student_dir: Annotated[Path, typer.Option("--student-dir", help="A student folder made by `distill student`/`run`.")],
    output_dir: Annotated[Path, typer.Option("--output-dir", help="The model folder to write (e.g. models/sentiment).")],
    name: opt.ExportName = None, variants: opt.Variants = "fp32,int8,fp16",
    teacher_dir: Annotated[Path | None, typer.Option(
        "--teacher-dir", help="Teacher checkpoint, to record teacher metrics (optional).")] = None,
    report_dir: Annotated[Path | None, typer.Option(
        "--report-dir", help="Run directory whose report.json gets the ONNX rows appended (optional).")] = None,
    max_validation_examples: opt.MaxValidation = None,
) -> None:
    """Export a student to an ONNX model folder with its manifest, checked against PyTorch."""
    if not info_path(student_dir).is_file():
        raise typer.BadParameter(f"{student_dir} is not a student folder (no distill_info.json)", param_hint="--student-dir")
    _export(student_dir, output_dir, name, opt.variants_tuple(variants), teacher_dir, report_dir, max_validation_examples)


app.command("build-default")(build_default)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
