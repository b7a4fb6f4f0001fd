"""Question-answering recipe variants for bench/gpu/distillation/'s qa-variants stage: the recipe of
`distill build-default --qa-data` (distill/tasks/question_answering/recipe.py) with one option
changed per variant, each student distilled from the same fine-tuned teacher and evaluated on the
validation articles."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from distill.tasks.question_answering.recipe import QARecipe

# name -> (what changes, in words; the QARecipe fields changed)
VARIANTS: dict[str, tuple[str, dict]] = {
    "default": ("the recipe as it is", {}),
    "long": ("distillation twice as long as the teacher's fine-tuning (6 epochs)",
             {"epochs": 2 * QARecipe.teacher_epochs}),
    "cached": ("teacher outputs cached after the first epoch", {"cache_teacher": True}),
    "long-cached": ("6 epochs, teacher outputs cached", {"epochs": 2 * QARecipe.teacher_epochs, "cache_teacher": True}),
    "tinybert": ("+ TinyBERT attention-score and hidden MSE per mapped layer", {"intermediate": "tinybert"}),
    "minilm": ("+ MiniLM last-layer attention and value relations", {"intermediate": "minilm"}),
    "lr-decay": ("layer-wise learning-rate decay 0.8", {"layer_lr_decay": 0.8}),
}
TINY_QUESTIONS = 16  # training questions of a --tiny run (and about as many validation questions)


def chosen(names: str) -> list[str]:
    picked = list(VARIANTS) if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in picked if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown QA variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    return picked


def base_recipe(tiny: bool) -> QARecipe:
    if not tiny:
        return QARecipe()
    return replace(QARecipe(), max_seq_len=128, doc_stride=32, teacher_epochs=1.0, epochs=1.0, batch_size=8)


def qa_data(args: argparse.Namespace) -> tuple[Path, Path, int | None]:
    """(training file, validation file, training-question cap): the SQuAD articles, capped by
    --qa-max-train and --qa-validation-paragraphs (the first paragraphs of each validation article,
    written to OUT/capped), or with --tiny to a few questions."""
    squad = args.data_dir / "squad"
    train, validation = squad / "articles-train-v1.1.json", squad / "articles-val-v1.1.json"
    paragraphs, questions = (2, TINY_QUESTIONS) if args.tiny else (args.qa_validation_paragraphs, args.qa_max_train)
    if paragraphs is None:
        return train, validation, questions
    articles = json.loads(validation.read_text())["data"][:1 if args.tiny else None]
    capped = args.out / "capped" / "validation.json"
    capped.parent.mkdir(parents=True, exist_ok=True)
    capped.write_text(json.dumps({"version": "1.1", "data": [{**a, "paragraphs": a["paragraphs"][:paragraphs]}
                                                             for a in articles]}))
    return train, capped, questions


def teacher_folder(args: argparse.Namespace) -> Path:
    """Where `fine_tune_teacher` leaves the teacher."""
    return args.out / "variants" / "teacher-build" / ".runs" / "qa" / "teacher"


def fine_tune_teacher(args: argparse.Namespace) -> Path:
    """A teacher with a fine-tuned span head (the qa stage's build, not exported)."""
    from distill.cli.default import QABuild, build_default_qa

    train, validation, questions = qa_data(args)
    build_default_qa(teacher_folder(args).parents[2], QABuild(str(train), str(validation), questions,
                                                            base_recipe(args.tiny)), 42, force=True, export=False)
    return teacher_folder(args)


def run_one(args: argparse.Namespace, name: str, teacher: Path) -> dict:
    """One variant's build from `teacher`; its rows and timings."""
    from distill.cli.default import QABuild, build_default_qa

    train, validation, questions = qa_data(args)
    recipe = replace(base_recipe(args.tiny), **VARIANTS[name][1])
    if args.tiny and "epochs" in VARIANTS[name][1]:
        recipe = replace(recipe, epochs=2 * recipe.teacher_epochs)
    out = args.out / "variants" / name
    start = time.perf_counter()
    build_default_qa(out, QABuild(str(train), str(validation), questions, recipe, teacher=str(teacher)), 42,
                     force=True, export=args.variants_export)
    wall = time.perf_counter() - start
    report = json.loads((out / ".runs" / "qa" / "report.json").read_text())
    folder = out / "qa" / "report.json"
    rows = json.loads(folder.read_text())["models"] if folder.is_file() else report["models"]
    int8 = next((r for r in rows if "INT8" in r["name"]), None)
    return {"name": name, "change": VARIANTS[name][0], "teacher_f1": report["models"][0]["f1"],
            "student_f1": report["models"][1]["f1"], "student_exact_match": report["models"][1]["exact_match"],
            "retention": (report.get("retention") or {}).get("f1"), "int8_f1": int8["f1"] if int8 else None,
            "device": report["models"][1].get("device"), "distillation_seconds": report["training"]["student"]["seconds"],
            "wall_seconds": round(wall, 1)}


def run_all(args: argparse.Namespace, names: list[str], teacher: Path) -> list[dict]:
    results = []
    for name in names:
        print(f"== QA variant {name}", flush=True)
        try:
            results.append(run_one(args, name, teacher))
        except Exception as error:  # one failed variant does not stop the others
            results.append({"name": name, "change": VARIANTS[name][0], "error": f"{type(error).__name__}: {error}"})
    return results
