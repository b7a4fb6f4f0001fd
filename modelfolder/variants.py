"""The start-up check of a variant the export could not validate, against fp32 on the same provider.

fp16 is exported for CUDA; on a machine without a GPU the export can only smoke-test it on the CPU
provider, so its manifest entry says `unvalidated`. Where the service runs it on CUDA, it first
runs the folder's validation sample (`modelfolder.sample`) through both the candidate and
fp32 and uses the candidate only when the two agree by the task's rule (its `agreement`, an
`AgreementRule`: which part of an output row counts, and what "the same decision" means, e.g. the
same best label, the same best start and end, the same tag per token) on at least `min_agreement`
of the units the rule counts, and, for every task, no output further than `max_abs_diff` from fp32
(padding excluded). The limits are the export's own for fp16 (`distill.export.variants.VariantSettings`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Literal, Protocol, Sequence

import numpy as np

RunFn = Callable[[Sequence[Sequence[int]]], np.ndarray]
CheckStatus = Literal["passed", "failed", "skipped"]

MAX_ABS_DIFF = 5e-2  # largest |candidate - fp32| on any output (the export's fp16 tolerance)
MIN_AGREEMENT = 0.99  # share of the units (inputs, or tokens) with the same decision as fp32
CHECK_BATCH = 32


@dataclass(frozen=True)
class CheckLimits:
    max_abs_diff: float = MAX_ABS_DIFF
    min_agreement: float = MIN_AGREEMENT


@dataclass(frozen=True)
class VariantCheck:
    """What the start-up check found for one variant (reported by /v1/models)."""

    variant: str
    status: CheckStatus
    against: str  # the reference variant
    provider: str
    examples: int = 0
    max_abs_diff: float | None = None
    agreement: float | None = None
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class AgreementRule(Protocol):
    """A task's rule for "the candidate decides as fp32 does"."""

    def row(self, output: np.ndarray, length: int) -> np.ndarray:
        """The part of one input's output that counts, for an input of `length` tokens (padding cut)."""

    def matches(self, candidate: np.ndarray, reference: np.ndarray, max_abs_diff: float) -> tuple[int, int]:
        """(units that decide the same, units) of one input: 1 or 0 of 1, or per token."""


def _run_all(run: RunFn, sequences: Sequence[Sequence[int]], rule: AgreementRule) -> list[np.ndarray]:
    """Outputs of every sequence, in batches of similar lengths (as the batcher would form)."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    rows: list[np.ndarray | None] = [None] * len(sequences)
    for start in range(0, len(order), CHECK_BATCH):
        chunk = order[start:start + CHECK_BATCH]
        batch = [sequences[i] for i in chunk]
        outputs = run(batch)
        for position, i in enumerate(chunk):
            rows[i] = np.asarray(rule.row(outputs[position], len(sequences[i])), dtype=np.float64)
    return rows  # type: ignore[return-value]


def compare(candidate: list[np.ndarray], reference: list[np.ndarray], rule: AgreementRule,
            limits: CheckLimits) -> tuple[float, float]:
    """(max |candidate - reference|, share of the rule's units with the same decision)."""
    diff = max(float(np.max(np.abs(c - r))) for c, r in zip(candidate, reference))
    counts = [rule.matches(c, r, limits.max_abs_diff) for c, r in zip(candidate, reference)]
    same, units = sum(c[0] for c in counts), sum(c[1] for c in counts)
    return diff, same / units if units else 1.0


def check_variant(variant: str, candidate: RunFn, reference: RunFn, sequences: Sequence[Sequence[int]],
                  rule: AgreementRule, provider: str, limits: CheckLimits = CheckLimits(),
                  against: str = "fp32") -> VariantCheck:
    """Run the sample through both and judge the candidate. A candidate that cannot run fails."""
    base = dict(variant=variant, against=against, provider=provider, examples=len(sequences))
    expected = _run_all(reference, sequences, rule)
    try:
        got = _run_all(candidate, sequences, rule)
    except Exception as exc:  # onnxruntime raises its own types; any failure means "do not use"
        return VariantCheck(status="failed", note=f"{variant} did not run: {type(exc).__name__}: {exc}", **base)
    diff, agreement = compare(got, expected, rule, limits)
    if not np.isfinite(diff):
        return VariantCheck(status="failed", max_abs_diff=diff, agreement=agreement,
                            note=f"{variant} gave non-finite outputs", **base)
    problems = []
    if diff > limits.max_abs_diff:
        problems.append(f"max |{variant} - {against}| {diff:.3g} > {limits.max_abs_diff}")
    if agreement < limits.min_agreement:
        problems.append(f"agreement {agreement:.2%} < {limits.min_agreement:.0%}")
    status: CheckStatus = "failed" if problems else "passed"
    note = "; ".join(problems) or (f"max |{variant} - {against}| {diff:.3g}, agreement {agreement:.2%} "
                                   f"on {len(sequences)} validation inputs")
    return VariantCheck(status=status, max_abs_diff=round(diff, 6), agreement=round(agreement, 6), note=note, **base)
