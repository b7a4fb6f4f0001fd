"""Benchmark (not a test): fine-tune the `minilm` teacher alone on one GLUE task under one setting
(head, learning rate, epochs, warm-up, training examples) and score it on the task's whole dev
set; each run appends one row to a JSON-lines file (with its command, minutes and load average).
What the section "Teachers that learn (GLUE)" of docs/RESULTS.md reads.

    .venv/bin/python -m bench.distill.glue.teacher_probe --task STS-B --head mean
        [--max-train-examples 2000] [--epochs 2] [--learning-rate 5e-5] [--warmup-ratio 0.1]
        [--rows runs/teacher_probe.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.distill.glue.tasks import by_name, paths
from distill.distillation_trainer import TrainConfig, train
from distill.evaluate import EvalConfig
from distill.task_protocol import DataOptions, OptionValues
from distill.tasks.registry import task_for
from distill.tasks.text.evaluate import predict
from distill.teacher import load_tokenizer, resolve_teacher


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.distill.glue.teacher_probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--task", default="STS-B")
    parser.add_argument("--teacher", default="minilm")
    parser.add_argument("--head", default="auto", help="the teacher's new head: auto, cls or mean")
    parser.add_argument("--max-train-examples", type=int, default=None)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--warmup-ratio", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-len", type=int, default=128)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--attention-dropout", type=float, default=None, help="None: the model's own")
    parser.add_argument("--head-bias-zero", action="store_true",
                        help="regression: start the new head's bias at 0 (the recipe starts it at the mean score)")
    parser.add_argument("--note", default="", help="a word on the setting, kept in the row")
    parser.add_argument("--rows", type=Path, default=Path("runs/teacher_probe.jsonl"))
    return parser.parse_args(argv)


def probe(args: argparse.Namespace) -> dict:
    glue = by_name(args.task)[0]
    train_file, dev_file = paths(glue, args.data)
    options = DataOptions(source=str(train_file), validation_source=str(dev_file) if dev_file else None,
                          format=glue.format, seed=args.seed, max_train_examples=args.max_train_examples)
    task = task_for(None, options)
    data = task.load_data(task.data_config(options))
    settings = task.adapt_options(task.make_options(OptionValues(args.max_seq_len, teacher_head=args.head)), data)
    location = resolve_teacher(args.teacher)
    tokenizer = load_tokenizer(location)
    model = task.load_teacher(location, data, settings)
    if args.head_bias_zero:
        model.classifier.bias.data.zero_()
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                         warmup_ratio=args.warmup_ratio, seed=args.seed, logging_steps=50, evaluate_each_epoch=False,
                         attention_dropout=args.attention_dropout)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        train(task, model, tokenizer, (task.datasets(tokenizer, data, settings, args.seed)[0], None), config,
              Path(work) / "checkpoints", Path(work) / "logs")
    minutes = (time.perf_counter() - started) / 60
    model.eval()
    logits, _ = predict("teacher", model, tokenizer, data.validation, settings.max_seq_len,
                        EvalConfig(latency_batch_sizes=()))
    quality = task.quality(data, logits, model)
    predicted_classes = sorted({int(i) for i in logits.argmax(axis=-1)}) if logits.shape[-1] > 1 else None
    return {"task": glue.name, "head": type(model).__name__, "setting": args.note, "examples": len(data.train),
            "epochs": args.epochs, "max_seq_len": args.max_seq_len, "attention_dropout": args.attention_dropout,
            "learning_rate": args.learning_rate, "head_bias": "zero" if args.head_bias_zero else "recipe", "warmup_ratio": args.warmup_ratio,
            "metric": settings.metric, "teacher_dev": round(float(quality[settings.metric]), 4),
            "dev_examples": len(data.validation), "classes_predicted": predicted_classes,
            "train_minutes": round(minutes, 2), "loadavg_before": load_before,
            "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
            "command": "python -m bench.distill.glue.teacher_probe " + " ".join(sys.argv[1:])}


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    row = probe(args)
    args.rows.parent.mkdir(parents=True, exist_ok=True)
    with args.rows.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
