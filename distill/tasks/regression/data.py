"""Regression data: texts or text pairs with a numeric score (STS-B's 0-5 similarity), from the
same sources and with the same split and subsampling as classification (`distill.tasks.text`)."""

from __future__ import annotations

from dataclasses import dataclass

from distill.data import DataError
from distill.tasks.text.data import DataConfig, Split, describe, ensure_validation, read_rows, sample, to_split
from distill.tasks.text.data import validation_rows as rows_of
from distill.tasks.text.readers import Row


@dataclass
class ScoredData:
    train: Split
    validation: Split
    description: dict
    label_names: tuple[str, ...] = ()  # a regressor has no label names

    def validation_rows(self) -> list[dict]:
        return rows_of(self.validation, float)


def score(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DataError(f"label {text!r} is not a number; a regression target must be one") from None


def load_data(config: DataConfig) -> ScoredData:
    """Read the configured source, parse the scores, split and subsample."""
    train, evaluation = sample(*ensure_validation(*read_rows(config), config), config)
    return ScoredData(_split(train), _split(evaluation), describe(config, train, evaluation))


def _split(rows: list[Row]) -> Split:
    return to_split(rows, score)
