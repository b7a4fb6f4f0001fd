"""The agreement rules of the contract's checks: what "decides as the reference does" means for each
kind of output -- a variant against fp32 (`modelfolder.variants`), an input batched against the same
input alone (`modelfolder.batch_invariance`). `rule_for(task)` is each task's rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SameBest:
    """One decision per input: the same best index along the last axis (a classifier's label; a
    span head's best start and best end). `sequence_axis`: the axis of the output row that runs
    over the tokens, cut to the input's length (None: the row has none)."""

    sequence_axis: int | None = None

    def row(self, output: np.ndarray, length: int) -> np.ndarray:
        if self.sequence_axis is None:
            return output
        return np.take(output, np.arange(length), axis=self.sequence_axis)

    def matches(self, candidate: np.ndarray, reference: np.ndarray, max_abs_diff: float) -> tuple[int, int]:
        return int(np.array_equal(np.argmax(candidate, axis=-1), np.argmax(reference, axis=-1))), 1


@dataclass(frozen=True)
class WithinTolerance:
    """One decision per input: every output within `max_abs_diff` (a regression score)."""

    def row(self, output: np.ndarray, length: int) -> np.ndarray:
        return output

    def matches(self, candidate: np.ndarray, reference: np.ndarray, max_abs_diff: float) -> tuple[int, int]:
        return int(np.max(np.abs(candidate - reference)) <= max_abs_diff), 1


@dataclass(frozen=True)
class SameTagPerToken:
    """One decision per token: the same best tag on each non-padding token of a (tokens, tags) row."""

    def row(self, output: np.ndarray, length: int) -> np.ndarray:
        return output[:length]

    def matches(self, candidate: np.ndarray, reference: np.ndarray, max_abs_diff: float) -> tuple[int, int]:
        same = np.argmax(candidate, axis=-1) == np.argmax(reference, axis=-1)
        return int(np.count_nonzero(same)), int(same.size)


@dataclass(frozen=True)
class SameDirection:
    """One decision per input: an embedding pointing where fp32's does, their cosine similarity at
    least `min_cosine` (0.999: about 2.6 degrees apart; a unit vector's error of norm 0.045 at most)."""

    min_cosine: float = 0.999

    def row(self, output: np.ndarray, length: int) -> np.ndarray:
        return output

    def matches(self, candidate: np.ndarray, reference: np.ndarray, max_abs_diff: float) -> tuple[int, int]:
        norms = float(np.linalg.norm(candidate) * np.linalg.norm(reference))
        cosine = float(np.dot(candidate, reference)) / norms if norms > 0 else 0.0
        return int(cosine >= self.min_cosine), 1


def rule_for(task: str):
    """The agreement rule of a contract task: how its outputs are compared between two runs (a
    variant against fp32 at start-up; an input alone against the same input batched)."""
    from modelfolder.manifest import (
        CLASSIFICATION,
        FEATURE_EXTRACTION,
        QUESTION_ANSWERING,
        REGRESSION,
        TOKEN_CLASSIFICATION,
    )

    rules = {
        CLASSIFICATION: SameBest(),  # the same best label
        REGRESSION: WithinTolerance(),  # the score within the tolerance
        QUESTION_ANSWERING: SameBest(sequence_axis=1),  # the same best start and end token, padding cut
        TOKEN_CLASSIFICATION: SameTagPerToken(),  # the same best tag on each token, padding cut
        FEATURE_EXTRACTION: SameDirection(),  # cosine with fp32 at least 0.999
    }
    return rules[task]
