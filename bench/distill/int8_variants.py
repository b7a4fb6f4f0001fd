"""Static vs dynamic INT8 vs fp32 for every task: each exported model folder's variants with the
task metric the export measured on the validation data, the alone-vs-batched difference the
export recorded, and offline ONNX Runtime throughput at batch 1 and 32 (one thread, the variants
timed in turn, medians over rounds).

    python -m bench.distill.int8_variants sentiment=models/sentiment qa=models/qa ... [--publish]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness.results import RESULTS, command_line, publish
from modelfolder.manifest import load_model_folder
from modelfolder.sample import read_sample

HEADING = "## Static vs dynamic INT8, every task"
VARIANTS = ("fp32", "int8", "int8-dynamic")


def ort_session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def padded_feeds(sequences: list[list[int]], inputs: list[str]) -> dict[str, np.ndarray]:
    width = max(len(s) for s in sequences)
    ids = np.zeros((len(sequences), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, seq in enumerate(sequences):
        ids[row, :len(seq)], mask[row, :len(seq)] = seq, 1
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in inputs:
        feeds["token_type_ids"] = np.zeros_like(ids)
    return feeds


def texts_per_second(session, batches: list[dict[str, np.ndarray]], texts: int) -> float:
    session.run(None, batches[0])
    start = time.perf_counter()
    for feeds in batches:
        session.run(None, feeds)
    return texts / (time.perf_counter() - start)


def measure(label: str, folder: Path, rounds: int) -> list[dict[str, Any]]:
    manifest = load_model_folder(folder)
    sample = read_sample(folder, manifest) or []
    singles = [padded_feeds([s], manifest.inputs) for s in sample[:100]]
    ordered = sorted(sample, key=len)
    batches = [padded_feeds(ordered[i:i + 32], manifest.inputs) for i in range(0, len(ordered), 32)]
    present = [v for v in VARIANTS if v in manifest.variants]
    sessions = {v: ort_session(folder / manifest.variants[v].file) for v in present}
    speeds: dict[str, dict[str, list[float]]] = {v: {"1": [], "32": []} for v in present}
    for _ in range(rounds):
        for name, session in sessions.items():
            speeds[name]["1"].append(texts_per_second(session, singles, len(singles)))
            speeds[name]["32"].append(texts_per_second(session, batches, len(ordered)))
    extras = manifest.variants["fp32"].validation.model_extra or {}
    metric = manifest.headline_metric or ("f1" if "f1" in extras else "accuracy")  # QA folders name none
    rows = []
    for name in present:
        variant = manifest.variants[name]
        extra = variant.validation.model_extra or {}
        value = getattr(variant.validation, metric, None) if metric == "accuracy" else extra.get(metric)
        check = variant.batch_invariance
        rows.append({"model": label, "task": manifest.task, "variant": name, "metric": metric, "value": value,
                     "alone_vs_batched": None if check is None else check.max_abs_diff,
                     "texts_per_s_1": statistics.median(speeds[name]["1"]),
                     "texts_per_s_32": statistics.median(speeds[name]["32"]),
                     "calibration": variant.calibration})
    return rows


def _row_text(model: str, name: str, r: dict, fp32: dict | None, dynamic: dict | None) -> str:
    def speed(key: str) -> str:
        ratio = f" ({r[key] / dynamic[key]:.2f}x)" if dynamic is not None and name != "int8-dynamic" else ""
        return f"{r[key]:.0f}{ratio}"

    known = fp32 is not None and r["value"] is not None and fp32["value"] is not None
    delta = f"{100 * (r['value'] - fp32['value']):+.2f} pt" if known else "-"
    diff = "-" if r["alone_vs_batched"] is None else f"{r['alone_vs_batched']:.3g}"
    value = "-" if r["value"] is None else f"{r['value']:.4f}"
    return (f"| {model} | {r['task']} | {name} | {r['metric']} | {value} | {delta} | {diff} | "
            f"{speed('texts_per_s_1')} | {speed('texts_per_s_32')} |")


def section(rows: list[dict], command: str) -> str:
    lines = [HEADING, "", f"`{command}`", "",
             "One ONNX Runtime thread, the folder's validation sample (up to 256 inputs; batch 1: its "
             "first 100; batch 32: all of it sorted by length), medians of the rounds, variants timed in "
             "turn. The metric is the export's, on the task's validation data. Ratios are to dynamic INT8.",
             "", "| model | task | variant | metric | value | vs fp32 | alone vs batched | texts/s @1 | texts/s @32 |",
             "|---|---|---|---|---|---|---|---|---|"]
    by_model: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_model.setdefault(r["model"], {})[r["variant"]] = r
    for model, variants in by_model.items():
        for name, r in variants.items():
            lines.append(_row_text(model, name, r, variants.get("fp32"), variants.get("int8-dynamic")))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.distill.int8_variants", description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="LABEL=MODEL_FOLDER, one per exported model")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    parser.add_argument("--publish", action="store_true", help=f"write the section '{HEADING[3:]}' of RESULTS.md")
    args = parser.parse_args(argv)
    rows = []
    for item in args.folders:
        label, _, folder = item.partition("=")
        rows += measure(label, Path(folder), args.rounds)
    text = section(rows, command_line("bench.distill.int8_variants", argv))
    print(text)
    publish(HEADING, text, RESULTS if args.publish else None, args.json, rows)


if __name__ == "__main__":
    main()
