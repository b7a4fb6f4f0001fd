"""What to do with a model folder that may already hold an import (`distill import --if-changed`,
which `serve --model-id` runs at every start): the same source (a hub id at the same revision, or
the same directory with the same weights) keeps the folder as it is; the same origin (hub id or
directory) with another revision or other weights is imported again over it; a folder that holds
anything else is not replaced."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

from distill.run_report import imported_origin
from modelfolder.manifest import ModelFolderError, read_manifest


class Decision(str, Enum):
    IMPORT = "import"  # nothing there yet
    KEEP = "keep"  # an import of this very source
    REPLACE = "replace"  # an import of the same model whose source changed


def existing_source(target: Path) -> dict[str, Any] | None:
    """The `source` of the manifest in `target`, None when there is no readable manifest or it has none."""
    try:
        return read_manifest(Path(target)).source
    except ModelFolderError:
        return None


def same_origin(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Both sources name the same hub id, or the same directory (whatever revision or weights)."""
    if a.get("kind") != b.get("kind"):
        return False
    key = "id" if a.get("kind") == "hub" else "path"
    return a.get(key) is not None and a.get(key) == b.get(key)


def decide(target: Path, source: dict[str, Any]) -> Decision:
    """Keep, replace or import; a folder in the way that is not an import of this origin raises
    FileExistsError naming what it holds."""
    target = Path(target)
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        return Decision.IMPORT
    found = existing_source(target)
    if found is None or not same_origin(found, source):
        what = f"an import of {imported_origin(found)}" if found else "no imported model"
        raise FileExistsError(f"{target}: exists and holds {what}, not {imported_origin(source)}; "
                              "choose another name or remove the folder")
    return Decision.KEEP if found == source else Decision.REPLACE
