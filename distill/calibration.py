"""The calibration inputs a student carries (`calibration.jsonl`, docs/CONTRACTS.md): token ids of a
seeded sample of its training inputs, written when the student is saved, read by the export to fix
static INT8's activation ranges (`distill.export.static_int8`) on data the validation never saw."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Sequence

CALIBRATION_FILE = "calibration.jsonl"
CALIBRATION_SIZE = 256  # inputs kept: the ranges settle well before this (docs/RESULTS.md)


def _ids(item: dict[str, Any]) -> list[int]:
    """The real tokens of one training item (padding cut by its attention mask, when it has one)."""
    ids = [int(t) for t in item["input_ids"]]
    mask = item.get("attention_mask")
    return ids if mask is None else [t for t, m in zip(ids, mask) if int(m)]


def write_calibration(folder: Path, dataset: Sequence[dict[str, Any]], seed: int = 0,
                      size: int = CALIBRATION_SIZE) -> int:
    """Write a seeded sample of `dataset`'s inputs (items with `input_ids`); returns how many."""
    rows = sorted(random.Random(seed).sample(range(len(dataset)), min(size, len(dataset))))
    with open(Path(folder) / CALIBRATION_FILE, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({"input_ids": _ids(dataset[row])}) + "\n")
    return len(rows)


def read_calibration(folder: Path) -> list[list[int]] | None:
    """The student's calibration inputs; None when it has none (saved before they were written)."""
    path = Path(folder) / CALIBRATION_FILE
    if not path.is_file():
        return None
    sequences = [json.loads(line)["input_ids"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [ids for ids in sequences if ids] or None
