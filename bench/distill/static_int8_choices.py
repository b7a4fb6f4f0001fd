"""The choices behind static INT8, measured on one classifier: the calibration method (min-max,
percentile, entropy) and the graph it starts from (the traced graph, or the graph with ONNX
Runtime's BERT fusions, whose fused Attention node keeps its projections in fp32), each against
fp32 and dynamic INT8: accuracy on a labelled TSV the student never saw, label flips and the largest
logit difference between a sentence alone and the same sentence batched with 31 random others, and
offline throughput at batch 1 and 32 (one thread, variants timed in turn, medians over rounds).

    python -m bench.distill.static_int8_choices --folder models/sentiment \\
        --student models/.runs/sentiment/student --data ../shared/data/sst2/dev.tsv
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.distill.int8_variants import ort_session, padded_feeds, texts_per_second
from bench.harness.paths import SHARED_DATA
from bench.harness.results import RESULTS, command_line, publish
from distill.calibration import read_calibration
from distill.export.static_int8 import METHODS, CalibrationSettings, quantize_static_int8
from modelfolder.manifest import load_model_folder

HEADING = "## Static INT8: calibration method and starting graph"


def _labelled(path: Path, folder: Path, max_seq_len: int) -> tuple[list[list[int]], list[int]]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_seq_len)
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [e.ids for e in tokenizer.encode_batch([r["sentence"] for r in rows])], [int(r["label"]) for r in rows]


def _traced(student: Path, target: Path, outputs: list[str], sample: list[list[int]]) -> Path:
    from distill.export.graph import export_torch
    from distill.folder_export import load_student

    export_torch(load_student(student).model, target, outputs, padded_feeds(sample[:2], []), 17)
    return target


def _quality(session, encoded: list[list[int]], gold: list[int], positive: int, seed: int) -> dict[str, Any]:
    run = lambda seqs: session.run(None, padded_feeds(seqs, []))[0]  # noqa: E731
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    predicted = {}
    for start in range(0, len(order), 32):
        chunk = order[start:start + 32]
        for i, logits in zip(chunk, run([encoded[i] for i in chunk])):
            predicted[i] = int(np.argmax(logits) == positive)
    rng = random.Random(seed)
    chosen = rng.sample(range(len(encoded)), min(200, len(encoded)))
    alone = np.stack([run([encoded[i]])[0] for i in chosen])
    batched = np.zeros_like(alone)
    for k, i in enumerate(chosen):
        group = [encoded[j] for j in rng.sample(range(len(encoded)), 31)]
        at = rng.randrange(32)
        group.insert(at, encoded[i])
        batched[k] = run(group)[at]
    return {"accuracy": sum(predicted[i] == gold[i] for i in range(len(gold))) / len(gold),
            "flips": int((alone.argmax(1) != batched.argmax(1)).sum()),
            "alone_vs_batched": float(np.abs(alone - batched).max())}


def build(folder: Path, student: Path, scratch: Path) -> dict[str, Path]:
    """fp32, dynamic INT8 (the folder's) and a static INT8 per method x starting graph."""
    manifest = load_model_folder(folder)
    calibration = read_calibration(student)
    if calibration is None:
        raise SystemExit(f"{student} carries no calibration.jsonl")
    traced = _traced(student, scratch / "traced.onnx", manifest.outputs, calibration)
    paths = {"fp32": folder / manifest.variants["fp32"].file,
             "int8-dynamic": folder / manifest.variants["int8-dynamic"].file}
    for method in METHODS:
        for graph, source in (("traced", traced), ("fused", paths["fp32"])):
            target = scratch / f"{method}-{graph}.onnx"
            quantize_static_int8(source, target, calibration, 0, CalibrationSettings(method=method))
            paths[f"static {method}, {graph}"] = target
    return paths


def section(rows: dict[str, dict], command: str) -> str:
    fp32, dynamic = rows["fp32"], rows["int8-dynamic"]
    lines = [HEADING, "", f"`{command}`", "",
             "| variant | accuracy | vs fp32 | flips alone vs batched | max \\|logit diff\\| "
             "| texts/s @1 | texts/s @32 |",
             "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['accuracy']:.4f} | {100 * (r['accuracy'] - fp32['accuracy']):+.2f} pt | "
                     f"{r['flips']} | {r['alone_vs_batched']:.3g} | {r['b1']:.0f} ({r['b1'] / dynamic['b1']:.2f}x) | "
                     f"{r['b32']:.0f} ({r['b32'] / dynamic['b32']:.2f}x) |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.distill.static_int8_choices",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, required=True, help="an exported classification model folder")
    parser.add_argument("--student", type=Path, required=True, help="its student checkpoint (with calibration.jsonl)")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "sst2" / "dev.tsv", help="TSV: sentence, label")
    parser.add_argument("--positive-label", default="positive", help="the label that means 1 in --data")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--publish", action="store_true", help=f"write the section '{HEADING[3:]}' of RESULTS.md")
    args = parser.parse_args(argv)
    manifest = load_model_folder(args.folder)
    encoded, gold = _labelled(args.data, args.folder, manifest.max_seq_len)
    with tempfile.TemporaryDirectory() as scratch:
        sessions = {name: ort_session(path) for name, path in build(args.folder, args.student, Path(scratch)).items()}
        positive = manifest.labels.index(args.positive_label)
        rows = {name: _quality(s, encoded, gold, positive, args.seed) for name, s in sessions.items()}
        singles = [padded_feeds([s], []) for s in encoded[:100]]
        ordered = sorted(encoded, key=len)
        batches = [padded_feeds(ordered[i:i + 32], []) for i in range(0, len(ordered), 32)]
        speeds: dict[str, dict[str, list[float]]] = {n: {"b1": [], "b32": []} for n in sessions}
        for _ in range(args.rounds):
            for name, session in sessions.items():
                speeds[name]["b1"].append(texts_per_second(session, singles, len(singles)))
                speeds[name]["b32"].append(texts_per_second(session, batches, len(ordered)))
    for name, row in rows.items():
        row.update({key: statistics.median(values) for key, values in speeds[name].items()})
    text = section(rows, command_line("bench.distill.static_int8_choices", argv))
    print(text)
    publish(HEADING, text, RESULTS if args.publish else None, args.json, rows)


if __name__ == "__main__":
    main()
