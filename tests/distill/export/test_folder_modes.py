"""Model folders get the permissions of any other file the process writes (its umask applied), so
a service running as another user -- the image's uid 10001 -- can read what `distill export`
wrote: first export and re-export with overwrite."""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.distill.export.conftest import fast_config


@contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def modes(folder: Path) -> dict[str, int]:
    """Relative path ('.' for the folder) -> permission bits, for the folder and all inside."""
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[path.relative_to(folder).as_posix()] = stat.S_IMODE(path.stat().st_mode)
    return found


def expected_modes(folder: Path, mask: int) -> dict[str, int]:
    return {name: (0o777 if (folder / name).is_dir() else 0o666) & ~mask for name in modes(folder)}


@pytest.mark.parametrize("mask", [0o022, 0o027], ids=["umask-022", "umask-027"])
def test_export_applies_the_umask_to_the_folder_and_its_files(run_dir: Path, tmp_path: Path, mask: int):
    from distill.folder_export import export_model_folder

    folder = tmp_path / "models" / "sentiment"
    with umask(mask):
        export_model_folder(fast_config(run_dir, folder, variants=("fp32",), latency=None))
    found = modes(folder)
    assert {"manifest.json", "tokenizer.json", "model.onnx"} <= set(found)
    assert found == expected_modes(folder, mask)
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o777 & ~mask


def test_overwrite_keeps_readable_modes(run_dir: Path, tmp_path: Path):
    from distill.folder_export import export_model_folder

    folder = tmp_path / "sentiment"
    with umask(0o022):
        export_model_folder(fast_config(run_dir, folder, variants=("fp32",), latency=None))
        folder.chmod(0o700)  # as an older export left it
        export_model_folder(fast_config(run_dir, folder, variants=("fp32",), latency=None, overwrite=True))
    found = modes(folder)
    assert found["."] == 0o755 and found["manifest.json"] == 0o644
    assert found == expected_modes(folder, 0o022)
