"""Benchmark (not a test): the GLUE table. For each task, `minilm` fine-tuned on the task's train
set, a 3-layer DistilBERT student distilled from it, exported to ONNX (fp32 and INT8); teacher,
student and INT8 student scored on the dev set with the task's GLUE metric.

    .venv/bin/python -m bench.distill.glue [--data ../shared/data] [--output runs/glue]
        [--tasks CoLA,SST-2,MRPC,STS-B,RTE,WNLI,QNLI] [--max-train-examples N] [--max-eval-examples N]
        [--teacher-epochs 3] [--epochs 3] [--max-seq-len 128] [--batch-size 32]

SST-2 trains on a seeded 12,000-phrase subset of its train set (--sst2-train-examples); QNLI's
shared half dev set is split into train / validation (seeded, --qnli-validation-fraction). The
table, the command, its duration and a plot go under "## GLUE" in docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from bench.distill.glue.report import plot, section
from bench.distill.glue.tasks import GlueTask, by_name, paths
from bench.harness.results import RESULTS, command_line, write_section
from distill.distillation_trainer import TrainConfig
from distill.evaluate import EvalConfig
from distill.export.config import ExportConfig
from distill.folder_export import export_model_folder
from distill.latency import LatencyConfig
from distill.task_pipeline import RunConfig, StudentConfig, run
from distill.task_protocol import DataOptions
from distill.tasks.registry import task_for
from distill.tasks.text.task import TextOptions

HEADING = "## GLUE"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.distill.glue", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="holds glue/ and sst2/")
    parser.add_argument("--output", type=Path, default=Path("runs/glue"))
    parser.add_argument("--tasks", default="CoLA,SST-2,MRPC,STS-B,RTE,WNLI,QNLI")
    parser.add_argument("--max-train-examples", type=int, default=None, help="cap per task (seeded subsample)")
    parser.add_argument("--max-eval-examples", type=int, default=None, help="cap on each dev set (seeded)")
    parser.add_argument("--sst2-train-examples", type=int, default=12000)
    parser.add_argument("--qnli-validation-fraction", type=float, default=0.2)
    parser.add_argument("--teacher-epochs", type=float, default=3.0)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--student-layers", type=int, default=3)
    parser.add_argument("--teacher-head", default="auto", help="the teacher's new head: auto, cls or mean")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--results", type=Path, default=RESULTS, help="the Markdown file the table goes into")
    parser.add_argument("--render-only", action="store_true",
                        help="only redraw the table and plot from OUTPUT/glue.json of an earlier run")
    return parser.parse_args(argv)


def _train_cap(task: GlueTask, args: argparse.Namespace) -> int | None:
    caps = [c for c in (args.max_train_examples, args.sst2_train_examples if task.name == "SST-2" else None) if c]
    return min(caps) if caps else None


def run_task(task: GlueTask, args: argparse.Namespace) -> dict:
    """Distil and export one task; its rows (teacher, student, INT8) with the headline metric."""
    train_file, dev_file = paths(task, args.data)
    data = DataOptions(source=str(train_file), validation_source=str(dev_file) if dev_file else None,
                       format=task.format, seed=args.seed, validation_fraction=args.qnli_validation_fraction,
                       max_train_examples=_train_cap(task, args), max_eval_examples=args.max_eval_examples)
    kind = task_for(None, data)
    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                        seed=args.seed, logging_steps=25)
    out = args.output / task.name
    started = time.perf_counter()
    report = run(RunConfig(
        teacher="minilm", data=kind.data_config(data), output=out, task=kind.name,
        options=TextOptions(args.max_seq_len, teacher_head=args.teacher_head), train=train,
        teacher_train=replace(train, epochs=args.teacher_epochs),
        student=StudentConfig(layers=args.student_layers),
        evaluation=EvalConfig(latency_batch_sizes=(1,), latency=LatencyConfig(warmup=1, repeats=3)),
    ))
    export_model_folder(ExportConfig(student_dir=out / "student", output_dir=out / "model", variants=("fp32", "int8"),
                                     latency=None, overwrite=True, threads=None))
    exported = json.loads((out / "model" / "report.json").read_text())
    metric = json.loads((out / "model" / "manifest.json").read_text())["headline_metric"]
    rows = {r["name"]: r for r in exported["models"]}
    return {"task": task.name, "metric": metric, "kind": kind.name,
            "train_examples": report["data"]["train_examples"], "dev_examples": report["data"]["validation_examples"],
            "teacher": rows["teacher (PyTorch)"][metric], "student": rows["student (PyTorch)"][metric],
            "int8": rows["student INT8 (ONNX Runtime)"][metric], "fp32": rows["student fp32 (ONNX Runtime)"][metric],
            "paper_bert": task.paper_bert, "paper_distilbert": task.paper_distilbert,
            "seconds": round(time.perf_counter() - started, 1)}


def measure(args: argparse.Namespace, command: str) -> dict:
    """Run every task; the results with the command and its duration (also saved as OUTPUT/glue.json)."""
    started = time.perf_counter()
    results = []
    for task in by_name(args.tasks):
        print(f"== {task.name}", flush=True)
        results.append(run_task(task, args))
        print(json.dumps(results[-1]), flush=True)
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    run = {"command": command, "wall_seconds": round(time.perf_counter() - started, 1), "settings": settings,
           "results": results}
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "glue.json").write_text(json.dumps(run, indent=2) + "\n")
    return run


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    command = command_line("bench.distill.glue", argv, python=".venv/bin/python")
    run = json.loads((args.output / "glue.json").read_text()) if args.render_only else measure(args, command)
    settings = argparse.Namespace(**run["settings"])  # the measured run's caps, also when only redrawing
    figure = plot(run["results"], args.results.parent / "glue.png")
    text = section(HEADING, run["results"], settings, run["command"], run["wall_seconds"], figure.name)
    write_section(HEADING, text, args.results)
    print(text)


if __name__ == "__main__":
    main()
