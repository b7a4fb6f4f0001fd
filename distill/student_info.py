"""The description a student checkpoint carries (docs/CONTRACTS.md): `distill_info.json` for a task
student (written by the distillation, completed by the evaluation, read by `distill evaluate` and
`distill export`), `general_info.json` for a general student (read by `--student-init`)."""

from __future__ import annotations

import json
from pathlib import Path

INFO_FILE = "distill_info.json"
GENERAL_INFO_FILE = "general_info.json"


def info_path(student_dir: Path) -> Path:
    return Path(student_dir) / INFO_FILE


def read_info(student_dir: Path) -> dict:
    return json.loads(info_path(student_dir).read_text(encoding="utf-8"))


def write_info(student_dir: Path, info: dict) -> None:
    info_path(student_dir).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def read_general_info(student_dir: Path) -> dict:
    path = Path(student_dir) / GENERAL_INFO_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{student_dir} is not a general student (no {GENERAL_INFO_FILE}); "
                                "make one with `distill general`")
    return json.loads(path.read_text(encoding="utf-8"))


def write_general_info(student_dir: Path, info: dict) -> None:
    (Path(student_dir) / GENERAL_INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
