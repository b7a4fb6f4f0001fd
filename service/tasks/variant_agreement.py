"""The agreement rules of the start-up check (`modelfolder.variants`): what "the candidate
variant decides as fp32 does" means for each kind of output."""

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
