"""Comparing an exported graph with the PyTorch model it came from.

`collect` runs one model over the validation batches; `compare` measures the largest absolute
difference and the share of identical predicted labels, and `check` turns a comparison that misses
its bounds into a `ParityError` that carries the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from distill.export.inputs import Batch

FP32_TOLERANCE = 1e-4


class ParityError(Exception):
    """An exported graph does not reproduce the PyTorch model within the allowed difference."""

    def __init__(self, variant: str, max_abs_diff: float, tolerance: float,
                 label_agreement: float, examples: int) -> None:
        self.variant = variant
        self.max_abs_diff = max_abs_diff
        self.tolerance = tolerance
        self.label_agreement = label_agreement
        self.examples = examples
        super().__init__(
            f"{variant}: ONNX output differs from PyTorch by up to {max_abs_diff:.3e} "
            f"(allowed {tolerance:.1e}); predicted labels agree on {label_agreement:.2%} "
            f"of {examples} validation examples (required 100%)"
        )


@dataclass(frozen=True)
class Outputs:
    """One model's outputs on the validation batches, rows put back in validation order."""

    logits: np.ndarray  # [examples, labels], float32

    @property
    def predictions(self) -> np.ndarray:
        return self.logits.argmax(axis=-1)


@dataclass(frozen=True)
class Comparison:
    max_abs_diff: float
    label_agreement: float
    examples: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def collect(run: Callable[[Batch], np.ndarray], batches: Sequence[Batch]) -> Outputs:
    """Run `run` on every batch and reassemble the rows in validation-set order."""
    total = sum(len(b.indices) for b in batches)
    logits: np.ndarray | None = None
    for batch in batches:
        out = np.asarray(run(batch), dtype=np.float32)
        if logits is None:
            logits = np.zeros((total, *out.shape[1:]), dtype=np.float32)
        logits[batch.indices] = out
    if logits is None:
        raise ValueError("no batches to run")
    return Outputs(logits=logits)


def compare(reference: Outputs, candidate: Outputs) -> Comparison:
    if reference.logits.shape != candidate.logits.shape:
        raise ValueError(f"shape {candidate.logits.shape} != reference {reference.logits.shape}")
    diff = float(np.max(np.abs(reference.logits.astype(np.float64) - candidate.logits)))
    agree = float(np.mean(reference.predictions == candidate.predictions))
    return Comparison(max_abs_diff=diff, label_agreement=agree, examples=len(reference.logits))


def check(variant: str, comparison: Comparison, tolerance: float = FP32_TOLERANCE) -> Comparison:
    """Raise ParityError unless the difference is within `tolerance` and all labels agree."""
    if not np.isfinite(comparison.max_abs_diff) or comparison.max_abs_diff > tolerance \
            or comparison.label_agreement < 1.0:
        raise ParityError(variant, comparison.max_abs_diff, tolerance,
                          comparison.label_agreement, comparison.examples)
    return comparison
