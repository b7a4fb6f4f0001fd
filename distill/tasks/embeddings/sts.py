"""Semantic textual similarity pairs (STS-B's layout: `sentence1`, `sentence2` and a 0-5 `score`
per row, tab-separated, read without quote processing) and how embeddings are scored on them: the
Spearman correlation of the cosine similarity of each pair's two embeddings with the gold scores."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from distill.data import DataError
from distill.jsonl import iter_jsonl
from distill.tasks.regression.metrics import spearman

COLUMNS = ("sentence1", "sentence2", "score")


@dataclass(frozen=True)
class StsPairs:
    first: list[str]
    second: list[str]
    scores: np.ndarray  # gold similarity per pair

    def __len__(self) -> int:
        return len(self.first)

    def sentences(self) -> list[str]:
        """The first sentences, then the second ones: row i and row len(self) + i are a pair."""
        return self.first + self.second

    def records(self) -> list[dict]:
        return [{"sentence1": a, "sentence2": b, "score": float(s)} for a, b, s in zip(self.first, self.second, self.scores)]


def _check(rows: list[tuple[str, str, float]], path: Path) -> StsPairs:
    if not rows:
        raise DataError(f"{path}: no sentence pairs")
    first, second, scores = zip(*rows)
    return StsPairs(list(first), list(second), np.asarray(scores, dtype=np.float64))


def read_sts(path: str | Path, limit: int | None = None) -> StsPairs:
    """Pairs and gold scores of an STS-B-style TSV file (header with sentence1, sentence2, score)
    or of the JSONL records `StsPairs.records` writes."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"STS file not found: {path}")
    if path.suffix.lower() == ".jsonl":
        rows = [(r["sentence1"], r["sentence2"], float(r["score"])) for _, r in iter_jsonl(path)]
        return _check(rows[:limit], path)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}: no column(s) {missing}; an STS file has the columns {list(COLUMNS)}")
        rows = []
        for number, record in enumerate(reader, start=2):
            try:
                rows.append((record["sentence1"], record["sentence2"], float(record["score"])))
            except (TypeError, ValueError):
                raise DataError(f"{path}:{number}: not a sentence pair with a numeric score") from None
    return _check(rows[:limit], path)


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of `a` with the same row of `b`."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.maximum(norms, 1e-12)


def sts_spearman(pairs: StsPairs, embeddings: np.ndarray) -> float:
    """Spearman correlation of the pairs' cosine similarities with the gold scores; `embeddings`
    holds the rows of `pairs.sentences()` in order."""
    n = len(pairs)
    if len(embeddings) != 2 * n:
        raise ValueError(f"{len(embeddings)} embeddings for {n} pairs (expected {2 * n})")
    return spearman(pairs.scores, cosine_rows(embeddings[:n], embeddings[n:]))


def mean_cosine(embeddings: np.ndarray, reference: np.ndarray) -> float:
    """The mean cosine similarity of each embedding with its reference (the teacher's)."""
    return float(np.mean(cosine_rows(embeddings, reference)))
