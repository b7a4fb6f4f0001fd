"""Benchmark (not a test): the question-answering build of `make run QA_DATA=...` on SQuAD articles.

    .venv/bin/python -m bench.distill.squad [--train ../shared/data/squad/articles-train-v1.1.json]
        [--validation ../shared/data/squad/articles-val-v1.1.json] [--output runs/squad]
        [--runs all,500,1500] [--max-seq-len 256] [--teacher-epochs 3] [--epochs 3] [--render-only]

Runs `distill build-default`'s question-answering build (the code behind `make run QA_DATA=...
QA_VALIDATION=...`, with its defaults unless overridden here) on the training articles, evaluated on
the validation articles: teacher and student EM/F1, F1 retention, the ONNX fp32 and INT8 students
of the exported folder, PyTorch and ONNX Runtime latency, and the wall time of each step. Builds
named by a number in --runs train on a seeded subset of that many questions and are not
exported: the data-scaling curve (docs/qa_scaling.png). Every build's numbers are kept in OUTPUT/squad.json; --render-only
rewrites the section "## Question answering (SQuAD articles)" of docs/RESULTS.md from it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.harness.paths import SHARED_DATA
from bench.harness.results import RESULTS, command_line, write_section

HEADING = "## Question answering (SQuAD articles)"
DATA = SHARED_DATA / "squad"
PLOT = RESULTS.parent / "qa_scaling.png"


def arguments() -> argparse.Namespace:
    from distill.tasks.question_answering.recipe import QARecipe

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=DATA / "articles-train-v1.1.json")
    parser.add_argument("--validation", type=Path, default=DATA / "articles-val-v1.1.json")
    parser.add_argument("--output", type=Path, default=Path("runs/squad"), help="model repositories go here")
    parser.add_argument("--runs", default="all", help="comma-separated builds: 'all' (every training question) "
                        "and training-question counts for the data-scaling curve, e.g. all,500,1500")
    parser.add_argument("--max-seq-len", type=int, default=QARecipe.max_seq_len)
    parser.add_argument("--teacher-epochs", type=float, default=QARecipe.teacher_epochs)
    parser.add_argument("--epochs", type=float, default=QARecipe.epochs)
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args()


def build(args: argparse.Namespace, questions: int | None) -> dict:
    """One question-answering build into OUTPUT/<all|N>; its report rows and step times."""
    from distill.cli.default import QABuild, build_default_qa
    from distill.tasks.question_answering.recipe import QARecipe

    repository = args.output / (str(questions) if questions else "all")
    recipe = QARecipe(max_seq_len=args.max_seq_len, teacher_epochs=args.teacher_epochs, epochs=args.epochs)
    start = time.perf_counter()
    export = questions is None  # the curve's builds need no model folder
    build_default_qa(repository, QABuild(str(args.train), str(args.validation), questions, recipe), 42, force=True,
                     export=export)
    wall = time.perf_counter() - start
    report = json.loads((repository / ".runs" / "qa" / "report.json").read_text())
    chain = json.loads((repository / "qa" / "report.json").read_text()) if export else report  # with the variants
    training = report["training"]
    teacher_s, student_s = training["teacher"]["seconds"], training["student"]["seconds"]
    return {
        "questions": report["data"]["train_examples"], "validation_questions": report["data"]["validation_examples"],
        "repository": str(repository), "train": str(args.train), "validation": str(args.validation), "rows": chain["models"], "layer_map": report["layer_map"],
        "steps": {"teacher": training["teacher"]["steps"], "student": training["student"]["steps"]},
        "seconds": {"teacher training": teacher_s, "distillation": student_s,
                    "loading and evaluation": report["wall_seconds"] - teacher_s - student_s,
                    "export and its checks": wall - report["wall_seconds"], "total": wall},
        "recipe": {"max_seq_len": args.max_seq_len, "teacher_epochs": args.teacher_epochs, "epochs": args.epochs},
    }


def _row(row: dict) -> str:
    latency = row.get("latency_ms") or {}
    size = f"{row['size_bytes'] / 1e6:.1f}" if row.get("size_bytes") else "-"
    return (f"| {row['name']} | {100 * row['exact_match']:.1f} | {100 * row['f1']:.1f} | {size} | "
            + " | ".join(f"{latency[s]:.1f}" if s in latency else "-" for s in ("1", "32")) + " |")


def section(runs: dict, command: str) -> str:
    main = runs["all"]
    rows = {r["name"]: r for r in main["rows"]}
    teacher, student = main["rows"][0], main["rows"][1]
    int8 = next((r for r in main["rows"] if "INT8" in r["name"]), None)
    fp32 = next((r for r in main["rows"] if "fp32" in r["name"]), None)
    lines = [
        HEADING, "",
        f"Command: `{command}`", "",
        "The question-answering build of `make run QA_DATA=... QA_VALIDATION=...` (`distill build-default "
        "--qa-data ... --qa-validation ...`, code in distill/cli/default.py, recipe in "
        f"distill/tasks/question_answering/recipe.py): minilm with a span head fine-tuned "
        f"{main['recipe']['teacher_epochs']:g} epochs, a 3-layer DistilBERT student (layer map {main['layer_map']}) "
        f"distilled {main['recipe']['epochs']:g} epochs, {main['recipe']['max_seq_len']}-token windows; "
        f"{main['questions']:,} training questions (`{Path(main['train']).name}`), evaluated on the "
        f"{main['validation_questions']:,} questions of other articles (`{Path(main['validation']).name}`); CPU, 2 shared cores. EM/F1 in SQuAD points, latency per window batch.", "",
        "| model | EM | F1 | size (MB) | latency b=1 (ms) | latency b=32 (ms) |", "|---|---|---|---|---|---|",
        *(_row(r) for r in rows.values()), "",
        f"- F1 retention (student / teacher): {100 * student['f1'] / teacher['f1']:.1f}% (target 95%)",
        f"- teacher F1 {100 * teacher['f1']:.1f} (target 60)",
    ]
    if int8 and fp32:
        lines.append(f"- INT8 F1 - fp32 F1: {100 * (int8['f1'] - fp32['f1']):+.2f} points (target: within 1)")
    if int8 and "per_tensor_f1" in int8:
        lines.append(f"- the INT8 row is the folder exported again with per-channel weight scales (`distill export "
                     f"--overwrite`), its latency that of the build's per-tensor INT8 (the two timed alike side by "
                     f"side); per-tensor scales gave EM {100 * int8['per_tensor_exact_match']:.1f}, F1 "
                     f"{100 * int8['per_tensor_f1']:.1f} ({100 * (int8['per_tensor_f1'] - fp32['f1']):+.2f} points)")
    b32 = teacher["latency_ms"].get("32"), student["latency_ms"].get("32")
    if all(b32):
        lines.append(f"- PyTorch speed-up at batch 32: {b32[0] / b32[1]:.2f}x (target 2x)")
    lines += ["- wall time: " + ", ".join(f"{name} {seconds / 60:.1f} min" for name, seconds in main["seconds"].items()),
              "- paper anchors (full SQuAD v1.1: 88k training questions, BERT-base teacher): BERT-base 81.2/88.5, "
              "DistilBERT 77.7/85.8 EM/F1", ""]
    curve = sorted(runs.values(), key=lambda r: r["questions"])
    if len(curve) > 1:
        lines += ["Data scaling (the same build on seeded subsets of the training questions; "
                  "[plot](qa_scaling.png)):", "",
                  "| training questions | teacher EM / F1 | student EM / F1 | F1 retention |", "|---|---|---|---|",
                  *(f"| {r['questions']:,} | {100 * r['rows'][0]['exact_match']:.1f} / {100 * r['rows'][0]['f1']:.1f} | "
                    f"{100 * r['rows'][1]['exact_match']:.1f} / {100 * r['rows'][1]['f1']:.1f} | "
                    f"{100 * r['rows'][1]['f1'] / r['rows'][0]['f1']:.1f}% |" for r in curve), ""]
    return "\n".join(lines)


def plot(runs: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = sorted(runs.values(), key=lambda r: r["questions"])
    x = [r["questions"] for r in curve]
    figure, axis = plt.subplots(figsize=(6, 4))
    for index, name in ((0, "teacher (minilm, 6 layers)"), (1, "student (3 layers)")):
        axis.plot(x, [100 * r["rows"][index]["f1"] for r in curve], marker="o", label=name)
    axis.set_xscale("log")
    axis.set_xlabel("training questions (SQuAD articles)")
    axis.set_ylabel("F1 on the validation articles")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    args = arguments()
    store = args.output / "squad.json"
    runs = json.loads(store.read_text()) if store.exists() else {}
    if not args.render_only:
        for name in (n.strip() for n in args.runs.split(",") if n.strip()):
            runs[name] = build(args, None if name == "all" else int(name))
            store.parent.mkdir(parents=True, exist_ok=True)
            store.write_text(json.dumps(runs, indent=2))
    command = command_line("bench.distill.squad", None, python=".venv/bin/python")
    if len(runs) > 1:
        plot(runs, args.results.parent / PLOT.name)
    text = section(runs, command)
    write_section(HEADING, text, args.results)
    print(text)


if __name__ == "__main__":
    main()
