"""Benchmark (not a test): the export chain of one distillation run, measured in one process.

    .venv/bin/python -m bench.distill.export_chain RUN_DIR [--output DIR] [--results FILE] [--print-only]

RUN_DIR is the `--output` folder of `distill run` (teacher/, student/, report.json). The student is
exported with `distill.folder_export.export_model_folder`, which re-measures the PyTorch teacher and
student next to the ONNX variants on the same inputs; this script prints the chain table, checks
the targets (INT8 within 1.0 accuracy point of fp32; INT8 at least 5x faster than the PyTorch
teacher at batch 32) and writes the table into docs/RESULTS.md (or --results FILE) under the
heading "## Export chain (SST-2)", replacing the section if it is already there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

from bench.harness.results import RESULTS, write_section

HEADING = "## Export chain (SST-2)"
TEACHER = "teacher (PyTorch)"
FP32 = "student fp32 (ONNX Runtime)"
INT8 = "student INT8 (ONNX Runtime)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="output folder of `distill run`")
    parser.add_argument("--output", type=Path, default=None,
                        help="model folder to write (default RUN_DIR/export-chain/sentiment)")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="markdown file to update with the chain section (docs/RESULTS.md)")
    parser.add_argument("--print-only", action="store_true",
                        help="print the section without writing the results file")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch and ONNX Runtime threads (default: their defaults)")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per measurement")
    parser.add_argument("--max-examples", type=int, default=None,
                        help="validation examples for parity and accuracy (default: all)")
    return parser.parse_args(argv)


def run_export(args: argparse.Namespace) -> tuple[dict, object]:
    from distill.export.config import ExportConfig
    from distill.folder_export import export_model_folder
    from distill.latency import LatencyConfig

    output = args.output or args.run_dir / "export-chain" / "sentiment"
    config = ExportConfig(
        student_dir=args.run_dir / "student", output_dir=output, report_dir=args.run_dir,
        max_validation_examples=args.max_examples, threads=args.threads,
        latency=LatencyConfig(warmup=3, repeats=args.repeats), overwrite=True,
    )
    manifest = export_model_folder(config)
    return json.loads((output / "report.json").read_text()), manifest


def targets(report: dict) -> list[str]:
    """One line per target, with the measured numbers and whether it was met."""
    rows = {r["name"]: r for r in report["models"] if r.get("measured_in") == "export"}
    lines = []
    if FP32 in rows and INT8 in rows:
        drop = 100 * (rows[FP32]["accuracy"] - rows[INT8]["accuracy"])
        lines.append(f"INT8 accuracy drop vs fp32: {drop:.2f} points (target <= 1.0): "
                     f"{'met' if drop <= 1.0 else 'NOT met'}")
    if TEACHER in rows and INT8 in rows:
        speedup = rows[TEACHER]["latency_ms"]["32"] / rows[INT8]["latency_ms"]["32"]
        lines.append(f"INT8 speed-up over the PyTorch teacher at batch 32: {speedup:.2f}x "
                     f"(target >= 5x): {'met' if speedup >= 5.0 else 'NOT met'}")
    return lines


def render_chain(report: dict, metrics: tuple) -> str:
    """Markdown table of the chain's rows: the task's quality metrics, size and latency."""
    sizes = sorted({s for r in report["models"] for s in r.get("latency_ms", {})}, key=int)
    head = ["model", *(name for _, name in metrics), "size (MB)"] + [f"latency b={s} (ms)" for s in sizes]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in report["models"]:
        size = row.get("size_bytes")
        cells = [row["name"], *(_fmt(row.get(key), ".4f") for key, _ in metrics),
                 _fmt(size / 1e6 if size else None, ".2f")]
        cells += [_fmt(row.get("latency_ms", {}).get(s), ".2f") for s in sizes]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def section(report: dict, manifest, args: argparse.Namespace) -> str:
    from distill.tasks.registry import get_task

    chain = {**report, "models": [r for r in report["models"] if r.get("measured_in") == "export"]}
    fp32 = manifest.variants["fp32"].validation
    export = report["export"]
    lines = [
        HEADING, "",
        f"Run `{args.run_dir}`, measured in one process by `bench/distill/export_chain.py` on "
        f"{platform.processor() or platform.machine()} ({os.cpu_count()} CPUs visible, "
        f"{export['threads']} thread(s)); latency is the median of {args.repeats} calls on the "
        f"first validation examples (batch 1 and 32), accuracy on {export['validation_examples']} "
        "validation examples.", "",
        render_chain(chain, get_task(report.get("task")).metrics).rstrip(), "",
        f"fp32 ONNX vs PyTorch student: max |logit diff| {fp32.max_abs_diff:.2e}, "
        f"label agreement {fp32.label_agreement:.2%}. Fusions: "
        + ", ".join(f"{k} {v}" for k, v in manifest.variants["fp32"].fusions.items()) + ".", "",
    ]
    lines += [f"- {line}" for line in targets(report)]
    lines += [f"- note: {note}" for note in export.get("notes", [])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.run_dir / "student" / "distill_info.json").is_file():
        print(f"{args.run_dir}: no student/distill_info.json (not a `distill run` output)",
              file=sys.stderr)
        return 2
    report, manifest = run_export(args)
    text = section(report, manifest, args)
    print(text)
    if not args.print_only:
        write_section(HEADING, text, args.results)
        print(f"wrote {HEADING!r} into {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
