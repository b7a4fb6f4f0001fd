"""`distill_info.json`, the description a student checkpoint carries (docs/CONTRACTS.md): written by
the distillation, completed by the evaluation, read by `distill evaluate` and `distill export`."""

from __future__ import annotations

import json
from pathlib import Path

INFO_FILE = "distill_info.json"


def info_path(student_dir: Path) -> Path:
    return Path(student_dir) / INFO_FILE


def read_info(student_dir: Path) -> dict:
    return json.loads(info_path(student_dir).read_text(encoding="utf-8"))


def write_info(student_dir: Path, info: dict) -> None:
    info_path(student_dir).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
