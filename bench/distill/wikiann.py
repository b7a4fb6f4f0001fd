"""Benchmark (not a test): named-entity distillation on WikiANN English (`../shared/data/wikiann-en`).

    .venv/bin/python -m bench.distill.wikiann [--data ../shared/data/wikiann-en] [--output runs/wikiann]
        [--train-sentences 6000] [--dev-sentences 2000] [--max-seq-len 64] [--teacher-epochs 3]
        [--epochs 3] [--attention-dropout 0] [--render-only]

`distill run --task token-classification` on a seeded subset of `train.conll` (the teacher, minilm
with a new tagging head, fine-tuned first), evaluated on a seeded subset of `dev.conll`, then `distill
export` of the student (fp32 and INT8 ONNX, fp16 too where CUDA exists): teacher / student / INT8
entity F1 (exact span and type), retention, PyTorch speed-up, wall time of each step. The numbers go
to OUTPUT/wikiann.json and the section "## Named entities (WikiANN English)" of docs/RESULTS.md.

`run_wikiann(teacher, data_dir, out, limits)` is the whole benchmark as a function, for other drivers
(a GPU run passes larger limits).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.harness.paths import SHARED_DATA
from bench.harness.results import RESULTS, command_line, write_json, write_section

HEADING = "## Named entities (WikiANN English)"
DATA = SHARED_DATA / "wikiann-en"


@dataclass(frozen=True)
class Limits:
    """How much of WikiANN a run uses and how long it trains (None: every sentence)."""

    train_sentences: int | None = 6000
    dev_sentences: int | None = 2000
    max_seq_len: int = 64  # WikiANN sentences are short: 64 sub-tokens hold nearly all in one window
    teacher_epochs: float = 3.0
    epochs: float = 3.0
    batch_size: int = 32
    attention_dropout: float | None = 0.0  # halves a CPU step (distill/dropout.py)
    variants: tuple[str, ...] = ("fp32", "int8")


def _run_config(teacher: str, data_dir: Path, out: Path, limits: Limits):
    from distill import task_pipeline as pipeline
    from distill.distillation_trainer import TrainConfig
    from distill.task_protocol import DataOptions
    from distill.tasks.registry import get_task
    from distill.tasks.token_classification.features import WindowConfig

    task = get_task("token-classification")
    data = DataOptions(source=str(data_dir / "train.conll"), validation_source=str(data_dir / "dev.conll"),
                       max_train_examples=limits.train_sentences, max_eval_examples=limits.dev_sentences)
    train = TrainConfig(epochs=limits.epochs, batch_size=limits.batch_size, attention_dropout=limits.attention_dropout,
                        logging_steps=50)
    return pipeline.RunConfig(teacher=teacher, data=task.data_config(data), output=out / "run", task=task.name,
                              options=WindowConfig(max_seq_len=limits.max_seq_len),
                              train=train, teacher_train=TrainConfig(**{**asdict(train), "epochs": limits.teacher_epochs}))


def run_wikiann(teacher: str, data_dir: Path, out: Path, limits: Limits = Limits()) -> dict:
    """Distil, evaluate and export on WikiANN; returns the measured rows, retention, INT8 drop, the
    speed-ups and the wall time of each step (also written to OUT/wikiann.json)."""
    from distill import task_pipeline as pipeline
    from distill.export.config import ExportConfig
    from distill.folder_export import export_model_folder

    out = Path(out)
    start = time.perf_counter()
    report = pipeline.run(_run_config(teacher, Path(data_dir), out, limits))
    run_seconds = time.perf_counter() - start
    export_model_folder(ExportConfig(student_dir=out / "run" / "student", output_dir=out / "models" / "wikiann",
                                     variants=limits.variants, overwrite=True))
    chain = json.loads((out / "models" / "wikiann" / "report.json").read_text())
    result = summary(report, chain, limits, teacher, run_seconds, time.perf_counter() - start)
    (out / "wikiann.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _named(rows: list[dict], word: str) -> dict | None:
    return next((r for r in rows if word in r["name"]), None)


def summary(report: dict, chain: dict, limits: Limits, teacher: str, run_seconds: float, total: float) -> dict:
    rows = chain["models"]
    teacher_row, student_row = rows[0], rows[1]
    fp32, int8 = _named(rows, "fp32"), _named(rows, "INT8")
    training = report["training"]
    teacher_s, student_s = training["teacher"]["seconds"], training["student"]["seconds"]
    return {
        "teacher": teacher, "limits": asdict(limits), "data": report["data"], "layer_map": report["layer_map"],
        "rows": rows, "retention": student_row["entity_f1"] / teacher_row["entity_f1"],
        "int8_drop": None if not (fp32 and int8) else fp32["entity_f1"] - int8["entity_f1"],
        "speedup": {size: teacher_row["latency_ms"][size] / ms for size, ms in student_row["latency_ms"].items()},
        "steps": {"teacher": training["teacher"]["steps"], "student": training["student"]["steps"]},
        "seconds": {"teacher training": teacher_s, "distillation": student_s,
                    "loading and evaluation": run_seconds - teacher_s - student_s,
                    "export and its checks": total - run_seconds, "total": total},
        "threads": chain["export"]["threads"],
    }


def _row(row: dict) -> str:
    latency = row.get("latency_ms") or {}
    size = f"{row['size_bytes'] / 1e6:.1f}" if row.get("size_bytes") else "-"
    scores = " | ".join(f"{100 * row[k]:.1f}" for k in ("entity_precision", "entity_recall", "entity_f1"))
    return (f"| {row['name']} | {scores} | {size} | "
            + " | ".join(f"{latency[s]:.1f}" if s in latency else "-" for s in ("1", "32")) + " |")


def section(result: dict, command: str) -> str:
    limits, data = result["limits"], result["data"]
    lines = [
        HEADING, "",
        f"Command: `{command}`", "",
        f"`distill run --task token-classification` with `--teacher {result['teacher']}` (a new tagging head "
        f"fine-tuned {limits['teacher_epochs']:g} epochs), a {len(result['layer_map'])}-layer DistilBERT student "
        f"(layer map {result['layer_map']}) distilled {limits['epochs']:g} epochs (KL + CE on each word's first "
        f"sub-token, hidden cosine), {limits['max_seq_len']}-token windows, batch {limits['batch_size']}, attention "
        f"dropout {limits['attention_dropout']}; capped at a seeded {data['train_examples']:,} of the 20,000 training "
        f"sentences ({data['train_tokens']:,} words) and {data['validation_examples']:,} of the 10,000 dev sentences; "
        f"then `distill export` ({', '.join(limits['variants'])}). Entity precision / recall / F1 in points (exact span "
        f"and type, conlleval rules); latency per batch of windows, {result['threads']} thread(s).", "",
        "| model | entity P | entity R | entity F1 | size (MB) | latency b=1 (ms) | latency b=32 (ms) |",
        "|---|---|---|---|---|---|---|",
        *(_row(r) for r in result["rows"]), "",
        f"- entity F1 retention (student / teacher): {100 * result['retention']:.1f}% (target 97%)",
    ]
    if result["int8_drop"] is not None:
        lines.append(f"- INT8 entity F1 - fp32 entity F1: {-100 * result['int8_drop']:+.2f} points (target: within 1)")
    lines += ["- PyTorch speed-up of the student: " + ", ".join(f"{v:.2f}x at batch {k}" for k, v in result["speedup"].items()),
              "- wall time: " + ", ".join(f"{name} {s / 60:.1f} min" for name, s in result["seconds"].items()),
              "- anchor: XTREME reports English WikiANN entity F1 of about 84-85 for multilingual BERT-base "
              "(all 20,000 training sentences); the labels are derived automatically and noisy"]
    if result.get("note"):
        lines.append(f"- {result['note']}")
    lines.append("")
    return "\n".join(lines)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default="minilm", help="teacher name or folder (distill run --teacher)")
    parser.add_argument("--data", type=Path, default=DATA, help="folder with train.conll and dev.conll")
    parser.add_argument("--output", type=Path, default=Path("runs/wikiann"), help="run and model folder go here")
    parser.add_argument("--train-sentences", type=int, default=Limits.train_sentences, help="0: all")
    parser.add_argument("--dev-sentences", type=int, default=Limits.dev_sentences, help="0: all")
    parser.add_argument("--max-seq-len", type=int, default=Limits.max_seq_len)
    parser.add_argument("--teacher-epochs", type=float, default=Limits.teacher_epochs)
    parser.add_argument("--epochs", type=float, default=Limits.epochs)
    parser.add_argument("--batch-size", type=int, default=Limits.batch_size)
    parser.add_argument("--attention-dropout", type=float, default=Limits.attention_dropout)
    parser.add_argument("--variants", default=",".join(Limits.variants), help="ONNX variants to export")
    parser.add_argument("--render-only", action="store_true", help="rewrite the RESULTS section from OUTPUT/wikiann.json")
    parser.add_argument("--note", help="a remark on the conditions of the run, kept in OUTPUT/wikiann.json and shown")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    command = command_line("bench.distill.wikiann")
    if args.render_only:
        result = json.loads((args.output / "wikiann.json").read_text())
    else:
        limits = Limits(args.train_sentences or None, args.dev_sentences or None, args.max_seq_len,
                        args.teacher_epochs, args.epochs, args.batch_size, args.attention_dropout,
                        tuple(v.strip() for v in args.variants.split(",") if v.strip()))
        result = {**run_wikiann(args.teacher, args.data, args.output, limits), "command": command}
        write_json(args.output / "wikiann.json", result)
    if args.note:
        result = {**result, "note": args.note}
        write_json(args.output / "wikiann.json", result)
    text = section(result, result.get("command", command))
    write_section(HEADING, text, args.results)
    print(text)


if __name__ == "__main__":
    main()
