"""Benchmark (not a test): where a question-answering student loses what its teacher knows.

    .venv/bin/python -m bench.distill.qa.recipe --teacher runs/qa11/t5661/teacher [--recipes gold-3,kd-3,...]
        [--train ../shared/data/squad/articles-train-v1.1.json] [--validation ../shared/data/squad/articles-val-v1.1.json]
        [--epochs 2] [--threads 1] [--output runs/qa_recipe]
    .venv/bin/python -m bench.distill.qa.recipe --teacher ... --render   # the table into docs/RESULTS.md

One fine-tuned teacher (a span head), one student per recipe: the loss weights (alpha_kd, alpha_ce,
alpha_cos, T), the learning rate and the student's depth, each distilled on the same training
windows and scored with SQuAD EM/F1 on the validation articles. Each recipe's result is kept in
OUTPUT/NAME/result.json, so several processes may share the list (give each its own --recipes)
and a re-run skips the recipes already done; `--render` writes the table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from unittest import mock

from bench.harness.paths import SHARED_DATA
from bench.harness.results import RESULTS, command_line, write_section

HEADING = "## Question answering: where the student loses (recipe sweep)"
DATA = SHARED_DATA / "squad"


@dataclass(frozen=True)
class Recipe:
    layers: int = 3
    alpha_kd: float = 0.5
    alpha_ce: float = 0.5
    alpha_cos: float = 0.1
    temperature: float = 2.0
    learning_rate: float = 1e-4
    note: str = ""
    # the teacher hidden states the cosine aligns student layers with: "block-end" (`distill.student.
    # block_ends`, the trainer's) or "copied-layer" (each student layer against the output of the teacher
    # layer it was copied from, the alignment before block_ends; [0, 2, 4] of 6 layers then ends on the
    # teacher's fifth layer, not the last one the span head reads)
    alignment: str = "block-end"


RECIPES = {
    "gold-3": Recipe(alpha_kd=0.0, alpha_ce=1.0, alpha_cos=0.0, note="gold spans only (fine-tuning, no teacher)"),
    "kd-3": Recipe(note="KD + gold + cosine, T 2 (the loss defaults)"),
    "kd-only-3": Recipe(alpha_kd=1.0, alpha_ce=0.0, note="teacher only (no gold spans)"),
    "kd-t1-3": Recipe(temperature=1.0, note="T 1"),
    "kd-t4-3": Recipe(temperature=4.0, note="T 4"),
    "kd-nocos-3": Recipe(alpha_cos=0.0, note="no hidden-state cosine"),
    "kd-copycos-3": Recipe(alignment="copied-layer", note="cosine against the copied layers' outputs"),
    "kd-lr5e-5-3": Recipe(learning_rate=5e-5, note="learning rate 5e-5 (the general default)"),
    "gold-4": Recipe(layers=4, alpha_kd=0.0, alpha_ce=1.0, alpha_cos=0.0, note="gold spans only, 4 layers"),
    "kd-4": Recipe(layers=4, note="KD + gold + cosine, 4 layers"),
}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", type=Path, required=True, help="a fine-tuned teacher with a span head")
    parser.add_argument("--train", type=Path, default=DATA / "articles-train-v1.1.json")
    parser.add_argument("--validation", type=Path, default=DATA / "articles-val-v1.1.json")
    parser.add_argument("--recipes", default=",".join(RECIPES), help=f"comma separated, of: {', '.join(RECIPES)}")
    parser.add_argument("--max-train-examples", type=int, default=None)
    parser.add_argument("--max-eval-examples", type=int, default=None)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-len", type=int, default=256)
    parser.add_argument("--threads", type=int, default=None, help="torch threads of this process")
    parser.add_argument("--output", type=Path, default=Path("runs/qa_recipe"))
    parser.add_argument("--render", action="store_true", help="only write the table from the results so far")
    parser.add_argument("--skip-teacher", action="store_true", help="leave the teacher's evaluation to another process")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args()


def setting(args: argparse.Namespace):
    """The task, the loaded data and the window options every recipe shares."""
    from distill.tasks.question_answering.data import QADataConfig
    from distill.tasks.question_answering.features import WindowConfig
    from distill.tasks.question_answering.options import QAOptions
    from distill.tasks.registry import get_task

    task = get_task("question-answering")
    data = task.load_data(QADataConfig(source=str(args.train), validation_source=str(args.validation),
                                       skip_bad_answers=True, max_train_examples=args.max_train_examples,
                                       max_eval_examples=args.max_eval_examples))
    return task, data, QAOptions(WindowConfig(args.max_seq_len, 128))


def quality(task, name: str, model, tokenizer, data, options) -> dict:
    from distill.evaluate import EvalConfig

    row = task.evaluate([(name, model)], tokenizer, data, options, EvalConfig(latency_batch_sizes=(1,)))[0]
    return {"exact_match": row["exact_match"], "f1": row["f1"], "parameters": row["parameters"]}


def alignment(name: str):
    """The trainer's hidden-state targets as they are, or replaced for the "copied-layer" recipe."""
    if name == "block-end":
        return contextlib.nullcontext()
    return mock.patch("distill.distillation_trainer.block_ends", lambda mapping, layers: [i + 1 for i in mapping])


def run_recipe(name: str, args: argparse.Namespace, task, data, options, teacher) -> dict:
    from distill.distillation_trainer import TrainConfig
    from distill.losses import LossWeights
    from distill.task_pipeline import StudentConfig, distill_student

    recipe = RECIPES[name]
    folder = args.output / name
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=recipe.learning_rate,
                         attention_dropout=0.0, logging_steps=50)
    weights = LossWeights(recipe.temperature, recipe.alpha_kd, recipe.alpha_ce, recipe.alpha_cos)
    start = time.perf_counter()
    with alignment(recipe.alignment):
        outcome = distill_student(task, teacher, data, options, config, StudentConfig(recipe.layers, weights),
                                  folder / "student", folder)
    seconds = time.perf_counter() - start
    student = task.load_model(str(outcome.folder))
    return {"recipe": name, **asdict(recipe), "train_seconds": round(seconds, 1), "steps": outcome.training.steps,
            **quality(task, name, student, teacher.tokenizer, data, options)}


def compute(args: argparse.Namespace) -> None:
    import torch

    from distill.distillation_trainer import TrainConfig
    from distill.task_pipeline import obtain_teacher

    if args.threads:
        torch.set_num_threads(args.threads)
    task, data, options = setting(args)
    teacher = obtain_teacher(task, str(args.teacher), data, options, TrainConfig(), args.output / "teacher")
    teacher_file = args.output / "teacher.json"
    if not teacher_file.exists() and not args.skip_teacher:
        row = {"recipe": "teacher", **quality(task, "teacher", teacher.model, teacher.tokenizer, data, options)}
        save(teacher_file, {**row, "train_examples": len(data.train), "validation_examples": len(data.validation)})
    for name in [n.strip() for n in args.recipes.split(",") if n.strip()]:
        if name not in RECIPES:
            raise SystemExit(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
        result_file = args.output / name / "result.json"
        if not result_file.exists():
            save(result_file, run_recipe(name, args, task, data, options, teacher))
        print(json.dumps(json.loads(result_file.read_text())), flush=True)


def save(path: Path, value: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")


def render(args: argparse.Namespace) -> str:
    teacher = json.loads((args.output / "teacher.json").read_text())
    rows = [json.loads((args.output / name / "result.json").read_text())
            for name in RECIPES if (args.output / name / "result.json").exists()]
    shown = [a for a in sys.argv[1:] if a != "--render"]
    command = command_line("bench.distill.qa.recipe", shown, python=".venv/bin/python")
    lines = [
        HEADING, "",
        f"Command: `{command} --recipes ... --threads 1` (two processes at a time, each its own recipes), "
        "then the same with `--render` for this table.", "",
        f"Teacher `{args.teacher}` (minilm with a span head): EM {100 * teacher['exact_match']:.1f}, "
        f"F1 {100 * teacher['f1']:.1f} on the {teacher['validation_examples']} questions of "
        f"`{args.validation.name}`. Every student starts from the teacher's layers and is distilled "
        f"{args.epochs:g} epochs on the windows of the {teacher['train_examples']} training questions "
        f"(`{args.train.name}`, {args.max_seq_len}-token windows, batch {args.batch_size}, linear schedule "
        "with 10% warm-up, attention dropout 0, batches grouped by length); CPU, 2 shared cores.", "",
        "| recipe | layers | alpha_kd | alpha_ce | alpha_cos | T | lr | EM | F1 | F1 retention | train min |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['recipe']}: {r['note']} | {r['layers']} | {r['alpha_kd']:g} | {r['alpha_ce']:g} | {r['alpha_cos']:g} | "
            f"{r['temperature']:g} | {r['learning_rate']:g} | {100 * r['exact_match']:.1f} | {100 * r['f1']:.1f} | "
            f"{100 * r['f1'] / teacher['f1']:.1f}% | {r['train_seconds'] / 60:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = arguments()
    if not args.render:
        compute(args)
        return
    text = render(args)
    write_section(HEADING, text, args.results)
    print(text)


if __name__ == "__main__":
    main()
