"""Same input, same answer: a variant's outputs for an input run alone and inside batches.

A served model is batched with whatever else is waiting, so an answer must not depend on its batch
neighbours. Dynamically quantised INT8 does not have that property: ONNX Runtime picks each
activation's scale from the whole batch tensor, padding included, so a row's logits move with the
other rows. Static INT8 (scales fixed in the graph) and fp32 keep it up to floating-point rounding.

The check runs every sequence of the folder's validation sample alone (batch of one, no padding),
then batched with the rest of the sample in several groupings -- sorted by length as the batcher
forms batches, shuffled so that short inputs sit beside long ones (much padding), and shuffled in an
odd batch size -- and compares each input's output rows (padding cut, by the task's
`AgreementRule`). The export runs it on every variant and records the result and the tolerance in
the manifest (`Variant.batch_invariance`); the service runs it again at start-up on the variant it
is about to serve and refuses one that fails, unless the operator accepts batch-dependent answers.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Literal, Sequence

import numpy as np

from modelfolder.variants import AgreementRule, RunFn

# Largest |batched - alone| allowed on any output, in the output's own units (logits, embedding
# components). fp32 and static INT8 on the CPU measured at most 7e-8 on every task; dynamic INT8
# moved outputs by 0.009 to 1.13 (docs/RESULTS.md, "Static vs dynamic INT8, every task").
BATCH_TOLERANCE = 1e-4
GROUPINGS = (("by length", 32), ("shuffled", 32), ("shuffled", 7))
Status = Literal["passed", "failed"]


@dataclass(frozen=True)
class BatchInvariance:
    """What the alone-vs-batched check found for one variant (manifest and /v1/models)."""

    status: Status
    max_abs_diff: float  # largest |batched - alone| over every input, output and grouping
    tolerance: float
    examples: int
    changed_decisions: int = 0  # inputs (or tokens) deciding otherwise than alone, in the worst grouping
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def groupings(count: int, lengths: Sequence[int], seed: int = 0) -> list[list[list[int]]]:
    """Each grouping of the indices 0..count-1 into batches (see the module docstring)."""
    rng = random.Random(seed)
    result = []
    for order, size in GROUPINGS:
        indices = list(range(count))
        if order == "by length":
            indices.sort(key=lambda i: lengths[i])
        else:
            rng.shuffle(indices)
        result.append([indices[start:start + size] for start in range(0, count, size)])
    return result


def _rows(run: RunFn, batch: Sequence[Sequence[int]], rule: AgreementRule) -> list[np.ndarray]:
    outputs = run(batch)
    return [np.asarray(rule.row(outputs[i], len(seq)), dtype=np.float64) for i, seq in enumerate(batch)]


def check_batch_invariance(run: RunFn, sequences: Sequence[Sequence[int]], rule: AgreementRule,
                           tolerance: float = BATCH_TOLERANCE, seed: int = 0) -> BatchInvariance:
    """Run `sequences` alone and batched (`groupings`) through `run` and compare each input's rows."""
    if not sequences:
        raise ValueError("the batch-invariance check needs at least one sequence")
    alone = [_rows(run, [seq], rule)[0] for seq in sequences]
    worst, changed = 0.0, 0
    for batches in groupings(len(sequences), [len(s) for s in sequences], seed):
        changed_here = 0
        for batch in batches:
            for index, row in zip(batch, _rows(run, [sequences[i] for i in batch], rule)):
                worst = max(worst, float(np.max(np.abs(row - alone[index]))))
                same, units = rule.matches(row, alone[index], tolerance)
                changed_here += units - same
        changed = max(changed, changed_here)
    if not np.isfinite(worst) or worst > tolerance:
        note = (f"answers depend on the batch: an input's output moved by up to {worst:.3g} "
                f"(tolerance {tolerance:g}) between alone and batched, {changed} decisions changed")
        return BatchInvariance("failed", worst, tolerance, len(sequences), changed, note)
    note = f"alone vs batched in {len(GROUPINGS)} groupings: max |difference| {worst:.3g} <= {tolerance:g}"
    return BatchInvariance("passed", worst, tolerance, len(sequences), changed, note)
