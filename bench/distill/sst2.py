"""Benchmark (not a test): distil `minilm` into a 3-layer DistilBERT student on SST-2.

    .venv/bin/python -m bench.distill.sst2 [--data ../shared/data/sst2] [--output runs/sst2]
        [--max-train-examples 12000] [--teacher-epochs 1] [--epochs 2]

Trains on a seeded subset of SST-2's train.tsv, evaluates on the full dev.tsv (872 sentences),
and writes the measured numbers under "## Distillation (SST-2)" in docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from bench.harness.results import command_line, write_section
from distill.distillation_trainer import TrainConfig
from distill.task_pipeline import RunConfig, StudentConfig, run
from distill.tasks.classification.data import DataConfig
from distill.tasks.classification.task import TextOptions

HEADING = "## Distillation (SST-2)"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/sst2"))
    parser.add_argument("--output", type=Path, default=Path("runs/sst2"))
    parser.add_argument("--max-train-examples", type=int, default=12000)
    parser.add_argument("--teacher-epochs", type=float, default=1.0)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-len", type=int, default=64)
    return parser.parse_args()


def section(report: dict, command: str, wall: float) -> str:
    teacher, student = report["models"][:2]
    lines = [
        HEADING, "",
        f"Command: `{command}`", "",
        f"Teacher `minilm` (all-MiniLM-L6-v2, 6 layers) fine-tuned, then a 3-layer DistilBERT student "
        f"(layer map {report['layer_map']}) distilled; trained on a seeded subset of "
        f"{report['data']['train_examples']} SST-2 train phrases, evaluated on the "
        f"{report['data']['validation_examples']} dev sentences. CPU, 2 shared cores, fp32.", "",
        "| model | dev accuracy | macro-F1 | parameters | latency b=1 (ms) | latency b=32 (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for row in (teacher, student):
        lines.append(f"| {row['name']} | {row['accuracy']:.4f} | {row['macro_f1']:.4f} | {row['parameters']:,} | "
                     f"{row['latency_ms']['1']:.2f} | {row['latency_ms']['32']:.2f} |")
    lines += [
        "",
        f"- accuracy retention: {100 * report['retention']['accuracy']:.1f}% (target >= 97%)",
        f"- parameter reduction: {100 * report['parameter_reduction']:.1f}%",
        f"- PyTorch speed-up: {report['speedup']['1']:.2f}x at batch 1, {report['speedup']['32']:.2f}x at batch 32 "
        "(target >= 1.9x at batch 32)",
        f"- total wall time: {wall / 60:.1f} min", "",
    ]
    return "\n".join(lines)


def main() -> None:
    args = arguments()
    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, logging_steps=25)
    config = RunConfig(
        teacher="minilm", output=args.output, options=TextOptions(args.max_seq_len),
        data=DataConfig(source=str(args.data / "train.tsv"), validation_source=str(args.data / "dev.tsv"),
                        text_column="sentence", max_train_examples=args.max_train_examples),
        train=train,
        teacher_train=replace(train, epochs=args.teacher_epochs),
        student=StudentConfig(layers=3),
    )
    start = time.perf_counter()
    report = run(config)
    wall = time.perf_counter() - start
    command = command_line("bench.distill.sst2", None, python=".venv/bin/python")
    text = section(report, command, wall)
    write_section(HEADING, text)
    print(text)


if __name__ == "__main__":
    main()
