"""Which files of a model folder the web page may serve: the report and the plots it names.

Nothing else of the folder is reachable (not the manifest, the tokenizer or the ONNX files), and a
name is only ever looked up in that list, never joined to the folder as the client sent it.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
# Raster images only: an SVG served from the page's own origin could carry script.
PLOT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
MEDIA_TYPES = {
    REPORT_JSON: "application/json",
    REPORT_MD: "text/markdown; charset=utf-8",
    **PLOT_TYPES,
}


def is_plain_name(name: str) -> bool:
    """A bare file name: no directory part, no parent reference, not hidden, no odd characters."""
    if not name or name != name.strip() or "\x00" in name or "\\" in name:
        return False
    return PurePosixPath(name).name == name and not name.startswith(".")


def read_report(folder: Path) -> dict[str, Any] | None:
    """The folder's report.json, or None when it has none (or it is not a JSON object)."""
    path = Path(folder) / REPORT_JSON
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return report if isinstance(report, dict) else None


def report_plots(report: dict[str, Any] | None) -> list[str]:
    """The plots a report names that may be served: bare names of raster images."""
    names = (report or {}).get("plots") or []
    return [
        n for n in names
        if isinstance(n, str) and is_plain_name(n) and PurePosixPath(n).suffix.lower() in PLOT_TYPES
    ]


def _inside(folder: Path, name: str) -> Path | None:
    root = Path(folder).resolve()
    path = (root / name).resolve()
    return path if path.parent == root and path.is_file() else None


def servable_files(folder: Path) -> dict[str, Path]:
    """File name -> path of every file of the folder the page may fetch."""
    report = read_report(folder)
    names = [REPORT_JSON, REPORT_MD, *report_plots(report)] if report is not None else [REPORT_MD]
    found = {name: _inside(folder, name) for name in names}
    return {name: path for name, path in found.items() if path is not None}


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(name) or PLOT_TYPES[PurePosixPath(name).suffix.lower()]
