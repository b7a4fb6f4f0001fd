"""Rows of (text, optional second text, label as a string) from local CSV/TSV/JSONL files and
`datasets` hub names, for every text task.

TSV files are read without quote processing (`csv.QUOTE_NONE`): a bare `"` inside a sentence is
common in GLUE-style files and would otherwise swallow the rest of the file. Every text file is
read as `utf-8-sig`, so a leading byte-order mark (MRPC's files have one) does not end up in the
first column's name. A file without a header row is read with the column names it is given.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from distill.data import DataError, check_columns, read_hub
from distill.jsonl import JsonlError, read_jsonl

LOCAL_SUFFIXES = {".csv": ",", ".tsv": "\t", ".jsonl": None, ".json": None}


@dataclass(frozen=True)
class Columns:
    text: str = "text"
    label: str = "label"
    pair: str | None = None  # the second text of a pair (None: single texts)
    names: tuple[str, ...] | None = None  # column names of a CSV/TSV file without a header row

    def wanted(self) -> tuple[str, ...]:
        return (self.text, self.label) if self.pair is None else (self.text, self.pair, self.label)


class Row(NamedTuple):
    text: str
    pair: str | None
    label: str


def label_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _table(path: Path, columns: Columns) -> tuple[list[dict], list[str]]:
    tsv = path.suffix.lower() == ".tsv"
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, fieldnames=list(columns.names) if columns.names else None,
                                delimiter="\t" if tsv else ",",
                                quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL)
        records = list(reader)
        return records, list(reader.fieldnames or [])


def _records(path: Path, columns: Columns) -> tuple[list[dict], list[str]]:
    if path.suffix.lower() not in (".jsonl", ".json"):
        return _table(path, columns)
    try:
        records = read_jsonl(path)
    except JsonlError as error:
        raise DataError(str(error)) from None
    return records, list(records[0].keys()) if records else []


def read_local_file(path: Path, columns: Columns) -> list[Row]:
    """Rows of a CSV, TSV or JSONL file with a header / keys (or `columns.names`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    records, names = _records(path, columns)
    check_columns(names, columns.wanted(), path.name)
    rows = []
    for number, record in enumerate(records, start=1):
        values = [record.get(name) for name in columns.wanted()]
        if any(v is None for v in values) or str(values[-1]).strip() == "":
            raise DataError(f"{path.name}: record {number} has no value in one of the columns {list(columns.wanted())}")
        pair = str(values[1]) if columns.pair is not None else None
        rows.append(Row(str(values[0]), pair, label_text(values[-1])))
    return rows


def read_hub_rows(source: str, subset: str | None, columns: Columns) -> tuple[list[Row], list[Row] | None]:
    """(train, validation or None) rows of a `datasets` hub data set (needs network)."""
    def rows(part) -> list[Row]:
        names = getattr(part.features[columns.label], "names", None)
        pairs = part[columns.pair] if columns.pair else [None] * len(part)
        return [Row(str(t), None if p is None else str(p), names[y] if names else label_text(y))
                for t, p, y in zip(part[columns.text], pairs, part[columns.label])]

    return read_hub(source, subset, columns.wanted(), rows)
