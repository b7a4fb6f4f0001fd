"""JSON Lines reading: texts holding Unicode line separators survive a round trip."""

from __future__ import annotations

import pytest

from distill.jsonl import JsonlError, read_jsonl, write_jsonl
from distill.tasks.classification.export import read_validation

AWKWARD = ["a line\u2028separator", "next\x85line", "form\x0cfeed", "tab\tand \"quotes\"", "Zürich ✓"]


def test_round_trip_keeps_every_text(tmp_path):
    path = tmp_path / "rows.jsonl"
    rows = [{"text": text, "label": "positive"} for text in AWKWARD]
    write_jsonl(path, rows)
    assert read_jsonl(path) == rows


def test_validation_reader_is_not_split_by_separators(tmp_path):
    path = tmp_path / "validation.jsonl"
    write_jsonl(path, [{"text": text, "label": label} for text, label in zip(AWKWARD, "ababa")])
    validation = read_validation(path, ["a", "b"])
    assert validation.texts == AWKWARD
    assert validation.labels.tolist() == [0, 1, 0, 1, 0]


def test_bad_line_is_named(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "fine", "label": 1}\n\n{"text": "broken\n', encoding="utf-8")
    with pytest.raises(JsonlError, match=r"rows.jsonl:3: not valid JSON"):
        read_jsonl(path)
    path.write_text('["not", "an", "object"]\n', encoding="utf-8")
    with pytest.raises(JsonlError, match=r"rows.jsonl:1: expected a JSON object"):
        read_jsonl(path)
