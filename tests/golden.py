"""Fingerprints of a finished tiny `distill run`, compared with recorded ones in tests/golden_runs.json.

A run on the tiny fixtures with a fixed seed must give the same student from one version of the
pipeline to the next, on any host of the kind the suite runs on. What it catches: any change to what
the steps compute - data order, initialisation, the losses (a 1% change of one loss term's weight
moves the student's tensors by 1e-4 to 3e-4 of their size: `test_golden.py` checks that it breaks
the fingerprint), evaluation (metrics, compared to 1e-3: one flipped prediction on the tiny
validation sets moves them by 0.01 or more).

What it must not catch: the host's float kernels. Another CPU (AVX2 against AVX-512, or torch's
scalar kernels, `ATEN_CPU_CAPABILITY=default`) or another thread count sums in another order; after
training, the student's tensors then differ by up to 3e-6 of their size. So each tensor is compared
at the scale of its own values: the difference of the sums against the tensor's L2 norm, and the
relative difference of the sums of squares, both within `RELATIVE_TOLERANCE` (2e-5, between the
two). Tensors the losses cannot move are left out (`free_parameters`): their gradient is zero up
to rounding, and Adam's normalised steps turn that rounding into moves as large as the tensor
itself, different on every host.

After a change that is meant to alter the results, record the new fingerprints with
`python -m tests.golden RUN_KIND RUN_DIR`.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

GOLDEN_FILE = Path(__file__).with_name("golden_runs.json")
QUALITY_KEYS = ("accuracy", "macro_f1", "exact_match", "f1", "entity_f1", "spearman", "mean_cosine")
RELATIVE_TOLERANCE = 2e-5  # per tensor, at the scale of its values (see the module docstring)
METRIC_TOLERANCE = 1e-3  # absolute; one changed prediction on the tiny sets moves a metric by >= 0.01


def free_parameters(names: list[str]) -> set[str]:
    """The student tensors whose loss gradient is zero up to rounding, so rounding alone moves them.

    - attention key biases (`k_lin.bias`): a key bias b adds q.b to every score of a query, the same
      for all keys, and the softmax over keys ignores it;
    - a span head's bias (`qa_outputs.bias`): it adds one constant to the start (end) logit of every
      position, and the softmax over positions ignores it;
    - with a span head, the last block's output LayerNorm bias: it also adds one constant per head to
      every position's logit; only the small hidden-cosine term pulls on it.
    """
    free = {name for name in names if name.endswith("attention.k_lin.bias")}
    if "qa_outputs.bias" in names:
        free.add("qa_outputs.bias")
        blocks = [int(m.group(1)) for name in names if (m := re.search(r"transformer\.layer\.(\d+)\.", name))]
        free.add(f"distilbert.transformer.layer.{max(blocks)}.output_layer_norm.bias")
    return free


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


def tensor_deviation(expected: list[float], actual: list[float]) -> float:
    """How far one tensor moved, as a share of its own size: the larger of |d sum| / L2 norm and
    |d sum of squares| / (2 x sum of squares) (both about the relative change of the values)."""
    (sum_want, squares_want), (sum_got, squares_got) = expected, actual
    scale = max(squares_want, 1e-30)
    return max(abs(sum_got - sum_want) / math.sqrt(scale), abs(squares_got - squares_want) / (2 * scale))


def differences(expected: dict, actual: dict) -> list[str]:
    """Human-readable differences between two fingerprints (empty when they match)."""
    problems = []
    if set(expected["tensors"]) != set(actual["tensors"]):
        problems.append(f"tensor names differ: {sorted(set(expected['tensors']) ^ set(actual['tensors']))}")
    shared = sorted(set(expected["tensors"]) & set(actual["tensors"]))
    for name in sorted(set(shared) - free_parameters(shared)):
        deviation = tensor_deviation(expected["tensors"][name], actual["tensors"][name])
        if deviation > RELATIVE_TOLERANCE:
            problems.append(f"{name}: moved by {deviation:.2e} of its size (tolerance {RELATIVE_TOLERANCE:g}): "
                            f"{actual['tensors'][name]} != recorded {expected['tensors'][name]}")
    problems.extend(_metric_differences(expected["metrics"], actual["metrics"]))
    return problems


def heavier_soft_targets(combine, factor: float):
    """`distill.losses.combine` with the soft-target term `factor` times heavier: a small change to
    the distillation loss that the fingerprint must catch."""
    def changed(weights, kd, ce, hidden=None):
        return combine(weights, kd * factor, ce, hidden)
    return changed


def _metric_differences(expected: dict, actual: dict) -> list[str]:
    if {row: set(values) for row, values in expected.items()} != {row: set(values) for row, values in actual.items()}:
        return [f"metric names {actual} != recorded {expected}"]
    return [f"{row} {key}: {actual[row][key]} != recorded {want}"
            for row, values in sorted(expected.items()) for key, want in sorted(values.items())
            if abs(actual[row][key] - want) > METRIC_TOLERANCE]


if __name__ == "__main__":
    kind, folder = sys.argv[1], Path(sys.argv[2])
    everything = json.loads(GOLDEN_FILE.read_text()) if GOLDEN_FILE.is_file() else {}
    everything[kind] = fingerprint(folder)
    GOLDEN_FILE.write_text(json.dumps(everything, indent=1, sort_keys=True) + "\n")
