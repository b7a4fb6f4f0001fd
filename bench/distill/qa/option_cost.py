"""Benchmark (not a test): what each question-answering recipe option costs per distillation step.

    .venv/bin/python -m bench.distill.qa.option_cost [--train ../shared/data/squad/articles-train-v1.1.json]
        [--questions 56] [--epochs 4] [--rounds 2] [--variants default,tinybert,minilm,cached,lr-decay]

The built-in teacher with a span head (untrained: the speed does not depend on it) and the 3-layer
student of the recipe distil on the windows of the same `--questions` (256 tokens), batch 32, for
`--epochs` epochs, once per variant of bench/distill/qa/variants.py, in rounds (every variant once per
round, so a busy machine slows them alike); prints seconds per optimiser step (the Trainer's
runtime over its steps, so the first epoch's teacher passes are in the cached variant's mean).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.harness.paths import SHARED_DATA

DATA = SHARED_DATA / "squad"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=DATA / "articles-train-v1.1.json")
    parser.add_argument("--questions", type=int, default=56, help="training questions (the first ones)")
    parser.add_argument("--epochs", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default="default,tinybert,minilm,cached,lr-decay")
    return parser.parse_args()


def seconds_per_step(name: str, windows, teacher, tokenizer, epochs: float) -> float:
    from bench.distill.qa.variants import VARIANTS
    from distill.distillation_trainer import TrainConfig, train
    from distill.intermediate import IntermediateConfig
    from distill.tasks.question_answering.features import WindowDataset
    from distill.tasks.question_answering.models import build_span_student
    from distill.tasks.question_answering.recipe import QARecipe
    from distill.tasks.registry import get_task

    recipe = replace(QARecipe(), **VARIANTS[name][1])
    student, mapping = build_span_student(teacher, recipe.student_layers)
    config = TrainConfig(epochs=epochs, batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
                         attention_dropout=recipe.attention_dropout, logging_steps=100, evaluate_each_epoch=False,
                         layer_lr_decay=recipe.layer_lr_decay, cache_teacher=recipe.cache_teacher)
    with tempfile.TemporaryDirectory() as work:
        result = train(get_task("question-answering"), student, tokenizer, (WindowDataset(windows), None), config,
                       Path(work) / "student", Path(work) / "logs", teacher=teacher, weights=recipe.weights,
                       layer_map=mapping, intermediate=IntermediateConfig(recipe.intermediate, recipe.intermediate_alpha))
    return result.seconds / result.steps


def main() -> None:
    from bench.distill.qa.variants import chosen
    from distill.tasks.question_answering.data import QADataConfig, load_qa_data
    from distill.tasks.question_answering.features import WindowConfig, make_windows
    from distill.tasks.question_answering.models import load_question_answerer
    from distill.teacher import load_tokenizer, resolve_teacher

    args = arguments()
    location = resolve_teacher("minilm")
    tokenizer, teacher = load_tokenizer(location), load_question_answerer(location)
    data = load_qa_data(QADataConfig(source=str(args.train), validation_source=str(args.train), skip_bad_answers=True))
    windows = make_windows(tokenizer, data.train[:args.questions], WindowConfig(max_seq_len=256, doc_stride=128))
    names = chosen(args.variants)
    measured = {name: [] for name in names}
    for _ in range(args.rounds):
        for name in names:
            measured[name].append(seconds_per_step(name, windows, teacher, tokenizer, args.epochs))
            print(f"{name}: {measured[name][-1]:.2f} s per step", flush=True)
    base = sum(measured[names[0]]) / len(measured[names[0]])
    for name, values in measured.items():
        mean = sum(values) / len(values)
        print(f"| {name} | {', '.join(f'{v:.2f}' for v in values)} | {mean / base:.2f}x |")


if __name__ == "__main__":
    main()
