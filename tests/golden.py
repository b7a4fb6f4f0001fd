"""Fingerprints of a finished tiny `distill run`, compared with recorded ones in tests/golden_runs.json.

A run on the tiny fixtures with a fixed seed must give the same student weights and the same
report metrics from one version of the pipeline to the next: any change to what the steps compute
(data order, initialisation, losses, evaluation) shows up here. After a change that is meant to
alter the results, record the new fingerprints with `python -m tests.golden RUN_KIND RUN_DIR`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GOLDEN_FILE = Path(__file__).with_name("golden_runs.json")
QUALITY_KEYS = ("accuracy", "macro_f1", "exact_match", "f1", "entity_f1")
RELATIVE_TOLERANCE = 1e-5  # float sums over a tensor; the runs themselves are bitwise repeatable


def fingerprint(run_dir: Path) -> dict:
    """Per student tensor (sum, sum of squares), and the quality metrics of every report row."""
    from safetensors.numpy import load_file

    weights = load_file(str(Path(run_dir) / "student" / "model.safetensors"))
    tensors = {name: [float(v.astype("float64").sum()), float((v.astype("float64") ** 2).sum())]
               for name, v in sorted(weights.items())}
    report = json.loads((Path(run_dir) / "report.json").read_text())
    metrics = {row["name"]: {k: row[k] for k in QUALITY_KEYS if k in row} for row in report["models"]}
    return {"tensors": tensors, "metrics": metrics}


def recorded(kind: str) -> dict:
    return json.loads(GOLDEN_FILE.read_text())[kind]


def differences(expected: dict, actual: dict) -> list[str]:
    """Human-readable differences between two fingerprints (empty when they match)."""
    problems = []
    if set(expected["tensors"]) != set(actual["tensors"]):
        problems.append(f"tensor names differ: {sorted(set(expected['tensors']) ^ set(actual['tensors']))}")
    for name in sorted(set(expected["tensors"]) & set(actual["tensors"])):
        for want, got in zip(expected["tensors"][name], actual["tensors"][name]):
            if abs(want - got) > RELATIVE_TOLERANCE * max(1.0, abs(want)):
                problems.append(f"{name}: {got!r} != recorded {want!r}")
    if expected["metrics"] != actual["metrics"]:
        problems.append(f"metrics {actual['metrics']} != recorded {expected['metrics']}")
    return problems


if __name__ == "__main__":
    kind, folder = sys.argv[1], Path(sys.argv[2])
    everything = json.loads(GOLDEN_FILE.read_text()) if GOLDEN_FILE.is_file() else {}
    everything[kind] = fingerprint(folder)
    GOLDEN_FILE.write_text(json.dumps(everything, indent=1, sort_keys=True) + "\n")
