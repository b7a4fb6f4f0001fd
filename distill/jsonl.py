"""JSON Lines files: one JSON object per '\\n'-terminated line, UTF-8.

Lines are split on '\\n' only. `str.splitlines` would also split on characters that JSON leaves
unescaped inside strings (U+2028, U+0085, form feed, ...), and real review text contains them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator


class JsonlError(ValueError):
    """A line of a JSON Lines file is not a JSON object."""


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line of `path`."""
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise JsonlError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise JsonlError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def read_jsonl(path: Path) -> list[dict]:
    """Every object of `path`, in order."""
    return [record for _, record in iter_jsonl(path)]


def write_jsonl(path: Path, records) -> None:
    """Write `records` (dicts) one per line, non-ASCII kept as is."""
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
