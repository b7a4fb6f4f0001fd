"""Benchmark (not a test): distil `minilm` (all-MiniLM-L6-v2, a sentence-embedding model: mean
pooling, L2 normalisation) into a 3-layer DistilBERT sentence embedder on the built-in movie-review
sentences, export it, and score teacher / student / INT8 on STS-B dev.

    .venv/bin/python -m bench.distill.embeddings [--data-dir ../shared/data] [--output runs/embeddings]
        [--max-train-examples 60000] [--epochs 1] [--results docs/RESULTS.md] [--json F]

STS-B dev (1,500 pairs, 0-5 gold scores) is read from DATA_DIR/glue/STS-B/dev.tsv; the quality is
the Spearman correlation of the cosine similarity of each pair's embeddings with the gold scores.
Writes "## Sentence embeddings (STS-B)" in docs/RESULTS.md. `run_embeddings` is importable (a GPU
script calls it with larger limits).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.harness.results import RESULTS, command_line, publish, write_section

HEADING = "## Sentence embeddings (STS-B)"
STS_FILE = Path("glue") / "STS-B" / "dev.tsv"
INT8_ROW, FP32_ROW = "student INT8 (ONNX Runtime)", "student fp32 (ONNX Runtime)"


@dataclass(frozen=True)
class Limits:
    max_train_examples: int | None = 60000  # movie-review sentences trained on (seeded subset)
    epochs: float = 1.0
    batch_size: int = 32
    max_seq_len: int = 128
    student_layers: int = 3
    learning_rate: float = 1e-4
    max_eval_examples: int = 1000  # held-out sentences for the mean cosine
    variants: tuple[str, ...] = ("fp32", "int8")  # fp16 is only validated on a GPU


def run_embeddings(teacher: str, data_dir: Path, out: Path, limits: Limits = Limits()) -> dict:
    """Distil, evaluate, export; returns the measured numbers (also in OUT/report.json)."""
    from distill.distillation_trainer import TrainConfig
    from distill.export.config import ExportConfig
    from distill.folder_export import export_model_folder
    from distill.task_pipeline import RunConfig, StudentConfig, run
    from distill.tasks.embeddings.data import EmbeddingDataConfig
    from distill.tasks.embeddings.task import EmbeddingOptions
    from modelfolder.manifest import FEATURE_EXTRACTION

    sts = Path(data_dir) / STS_FILE
    start = time.perf_counter()
    report = run(RunConfig(
        teacher=teacher, output=out, task=FEATURE_EXTRACTION, options=EmbeddingOptions(limits.max_seq_len),
        data=EmbeddingDataConfig(sts_data=str(sts), max_train_examples=limits.max_train_examples,
                                 max_eval_examples=limits.max_eval_examples),
        train=TrainConfig(epochs=limits.epochs, batch_size=limits.batch_size, learning_rate=limits.learning_rate,
                          logging_steps=50),
        student=StudentConfig(layers=limits.student_layers)))
    trained = time.perf_counter() - start
    export_model_folder(ExportConfig(student_dir=out / "student", output_dir=out / "model", report_dir=out,
                                     variants=limits.variants, overwrite=True))
    exported = json.loads((out / "model" / "report.json").read_text())
    return summary(report, exported, limits, trained, time.perf_counter() - start)


def summary(report: dict, exported: dict, limits: Limits, trained: float, wall: float) -> dict:
    rows = {row["name"]: row for row in exported["models"]}
    teacher, student = report["models"][0], report["models"][1]
    int8 = rows.get(INT8_ROW, {})
    return {
        "limits": asdict(limits), "data": report["data"], "layer_map": report["layer_map"],
        "rows": [{k: row.get(k) for k in ("name", "spearman", "mean_cosine", "parameters", "latency_ms")}
                 for row in exported["models"]],
        "teacher_spearman": teacher["spearman"], "student_spearman": student["spearman"],
        "int8_spearman": int8.get("spearman"), "retention": student["spearman"] / teacher["spearman"],
        "int8_drop": None if int8.get("spearman") is None else rows[FP32_ROW]["spearman"] - int8["spearman"],
        "mean_cosine": student["mean_cosine"], "speedup": exported.get("export", {}).get("speedup_vs_teacher", {}),
        "train_seconds": report["training"]["student"]["seconds"], "distill_seconds": trained, "wall_seconds": wall,
    }


def _cell(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def section(result: dict, command: str, where: str, note: str | None = None) -> str:
    limits, data = result["limits"], result["data"]
    lines = [HEADING, "", f"Command: `{command}`", "",
             f"Teacher `minilm` (all-MiniLM-L6-v2: 6 layers, mean pooling + L2 normalisation read from its "
             f"sentence-transformers config) -> {limits['student_layers']}-layer DistilBERT student (layer map "
             f"{result['layer_map']}), distilled on {data['train_examples']:,} of the {data['sentences']:,} built-in "
             f"movie-review sentences ({limits['epochs']:g} epoch, batch {limits['batch_size']}, max "
             f"{limits['max_seq_len']} tokens) with the squared distance and 1 - cosine between sentence embeddings "
             f"plus the hidden-state cosine. Evaluated on the {data['sts_pairs']:,} STS-B dev pairs (Spearman of "
             f"cosine similarity with the gold scores) and {data['validation_examples']:,} held-out sentences (mean "
             f"cosine to the teacher's embedding). {where}", "",
             "| model | STS-B Spearman | mean cosine to teacher | latency b=1 (ms) | latency b=32 (ms) |",
             "|---|---|---|---|---|"]
    for row in result["rows"]:
        latency = row.get("latency_ms") or {}
        lines.append(f"| {row['name']} | {_cell(row['spearman'])} | {_cell(row['mean_cosine'])} | "
                     f"{_cell(latency.get('1'), 2)} | {_cell(latency.get('32'), 2)} |")
    drop = result["int8_drop"]
    lines += ["", f"- Spearman retention (student / teacher): {100 * result['retention']:.1f}% (target >= 97%)",
              f"- INT8 against fp32 ONNX: {'-' if drop is None else f'{-100 * drop:+.2f}'} Spearman points (target: "
              "no more than 1 point lost)",
              "- speed-up over the PyTorch teacher: " + "; ".join(
                  f"{name}: " + ", ".join(f"{v:.2f}x at batch {s}" for s, v in by.items())
                  for name, by in result["speedup"].items()),
              f"- wall time: {result['wall_seconds'] / 60:.1f} min (student training {result['train_seconds'] / 60:.1f} min)",
              *([f"- {note}"] if note else []), ""]
    return "\n".join(lines)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default="minilm")
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"), help="holds glue/STS-B/dev.tsv")
    parser.add_argument("--output", type=Path, default=Path("runs/embeddings"))
    parser.add_argument("--max-train-examples", type=int, default=Limits.max_train_examples)
    parser.add_argument("--epochs", type=float, default=Limits.epochs)
    parser.add_argument("--batch-size", type=int, default=Limits.batch_size)
    parser.add_argument("--learning-rate", type=float, default=Limits.learning_rate)
    parser.add_argument("--max-seq-len", type=int, default=Limits.max_seq_len)
    parser.add_argument("--where", default="CPU, 2 shared cores, fp32.", help="the hardware, for the section")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file to write the section into")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers as JSON")
    parser.add_argument("--render-only", type=Path, default=None,
                        help="rewrite the section from the JSON a run wrote (--command: the command that made it)")
    parser.add_argument("--command", default=None, help="with --render-only: the command the JSON came from")
    parser.add_argument("--note", default=None, help="a remark on the run, added to the section")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if args.render_only is not None:
        text = section(json.loads(args.render_only.read_text()), args.command or "(not recorded)", args.where, args.note)
        write_section(HEADING, text, args.results)
        print(text)
        return
    limits = Limits(max_train_examples=args.max_train_examples, epochs=args.epochs, batch_size=args.batch_size,
                    learning_rate=args.learning_rate, max_seq_len=args.max_seq_len)
    result = run_embeddings(args.teacher, args.data_dir, args.output, limits)
    command = command_line("bench.distill.embeddings", None, python=".venv/bin/python")
    text = section(result, command, args.where, args.note)
    publish(HEADING, text, args.results, args.json, result)
    print(text)


if __name__ == "__main__":
    main()
