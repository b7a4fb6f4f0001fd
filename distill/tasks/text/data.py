"""The data of a text task: its configuration, the rows of its source (a local file, a hub name),
the seeded train/validation split and subsampling, and the `Split` the features are made from."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from distill.data import DataError, check_fraction, subsample
from distill.tasks.text.glue import glue_format
from distill.tasks.text.readers import LOCAL_SUFFIXES, Columns, Row, read_hub_rows, read_local_file
from modelfolder.manifest import REGRESSION

BUILTIN_MOVIE_REVIEWS = "movie-reviews"


@dataclass(frozen=True)
class DataConfig:
    source: str = BUILTIN_MOVIE_REVIEWS  # builtin name, local CSV/TSV/JSONL path, or hub name
    text_column: str = "text"
    label_column: str = "label"
    text_pair_column: str | None = None  # the second text of each example (sentence pairs)
    format: str | None = None  # a known file layout (`glue-cola`, `glue-mrpc`, ...): sets the columns
    subset: str | None = None  # movie-reviews source (rotten_tomatoes | imdb) or hub config name
    validation_source: str | None = None  # optional local file holding the validation split
    validation_fraction: float = 0.1  # used only when the data has no validation split
    seed: int = 42  # seeds the split and the optional subsampling
    max_train_examples: int | None = None
    max_eval_examples: int | None = None


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list = field(default_factory=list)  # class indices (classification) or scores (regression)
    pairs: list[str] | None = None  # the second text of each example, for sentence pairs

    def __len__(self) -> int:
        return len(self.texts)


def columns_of(config: DataConfig) -> Columns:
    if config.format is not None:
        return glue_format(config.format).columns
    return Columns(config.text_column, config.label_column, config.text_pair_column)


def is_local(source: str) -> bool:
    return Path(source).suffix.lower() in LOCAL_SUFFIXES or Path(source).exists()


def read_rows(config: DataConfig) -> tuple[list[Row], list[Row] | None]:
    """(train, validation or None) rows of a local file (+ validation file) or a hub data set."""
    columns = columns_of(config)
    if not is_local(config.source):
        return read_hub_rows(config.source, config.subset, columns)
    path = Path(config.source)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    evaluation = read_local_file(Path(config.validation_source), columns) if config.validation_source else None
    return read_local_file(path, columns), evaluation


def split_rows(rows: list, fraction: float, seed: int) -> tuple[list, list]:
    """Deterministic seeded split: the same rows, fraction and seed give the same split."""
    check_fraction(fraction)
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = max(1, round(len(rows) * fraction))
    eval_ids = set(order[:n_eval])
    train = [r for i, r in enumerate(rows) if i not in eval_ids]
    evaluation = [r for i, r in enumerate(rows) if i in eval_ids]
    return train, evaluation


def ensure_validation(train: list[Row], evaluation: list[Row] | None, config: DataConfig) -> tuple[list[Row], list[Row]]:
    """Hold out a seeded validation split when there is none, then subsample both (seeded)."""
    if not train:
        raise DataError(f"the data set {config.source!r} has no rows")
    if evaluation is None:
        train, evaluation = split_rows(train, config.validation_fraction, config.seed)
    return train, evaluation


def sample(train: list[Row], evaluation: list[Row], config: DataConfig) -> tuple[list[Row], list[Row]]:
    train = subsample(train, config.max_train_examples, config.seed)
    evaluation = subsample(evaluation, config.max_eval_examples, config.seed + 1)
    if not evaluation:
        raise DataError("the validation split is empty; raise --validation-fraction or add data")
    return train, evaluation


def to_split(rows: list[Row], label) -> Split:
    """A `Split` of the rows, each label converted by `label`; pairs kept when the rows have them."""
    pairs = [r.pair for r in rows] if rows and rows[0].pair is not None else None
    return Split([r.text for r in rows], [label(r.label) for r in rows], pairs)


def describe(config: DataConfig, train: list[Row], evaluation: list[Row]) -> dict:
    columns = columns_of(config)
    return {
        "source": config.source, "subset": config.subset, "format": config.format, "text_column": columns.text,
        "text_pair_column": columns.pair, "label_column": columns.label, "train_examples": len(train),
        "validation_examples": len(evaluation),
    }


def validation_rows(split: Split, label) -> list[dict]:
    """The validation split as validation.jsonl records: text (, text_pair), label (by `label`)."""
    rows = []
    for i, text in enumerate(split.texts):
        pair = {} if split.pairs is None else {"text_pair": split.pairs[i]}
        rows.append({"text": text, **pair, "label": label(split.labels[i])})
    return rows


def labels_are_scores(labels: list[str]) -> bool:
    """True when every label is a number and some are not whole numbers (a regression target)."""
    try:
        values = [float(label) for label in labels]
    except ValueError:
        return False
    return bool(values) and any(not v.is_integer() for v in values)


def detect_task(config: DataConfig) -> str | None:
    """The task a data set implies, when it implies one: its --format's task, or regression for a
    local file whose labels are numbers and not all whole (None otherwise, or when it cannot be read)."""
    if config.format is not None:
        return glue_format(config.format).task
    if config.source == BUILTIN_MOVIE_REVIEWS or not is_local(config.source):
        return None
    try:
        train, _ = read_rows(config)
    except DataError:
        return None
    return REGRESSION if labels_are_scores([row.label for row in train]) else None
