"""`serve` on a model repository it may not read: one line naming the path, the uid and the fix.

The process must be subject to file permissions: as root (CI, containers) the test drops the
capabilities that let root read any file (`setpriv`, util-linux) and hands the damaged path to
another owner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OTHER_UID = 65534  # nobody
CASES = {"folder": ("sentiment", 0o700), "manifest": ("sentiment/manifest.json", 0o600),
         "model": ("sentiment/model.onnx", 0o600)}


def unprivileged() -> list[str]:
    """A command prefix under which this user meets file permissions like any other."""
    if os.getuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): root reads every file")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def restrict(path: Path, mode: int) -> None:
    path.chmod(mode)
    if os.getuid() == 0:
        os.chown(path, OTHER_UID, OTHER_UID)


@pytest.fixture()
def copy(repository, tmp_path) -> Path:
    root = tmp_path / "models"
    shutil.copytree(repository / "sentiment", root / "sentiment")
    return root


@pytest.mark.parametrize("case", sorted(CASES))
def test_unreadable_path_stops_start_up_in_one_line(copy: Path, case: str):
    relative, mode = CASES[case]
    restrict(copy / relative, mode)
    result = subprocess.run(
        [*unprivileged(), sys.executable, "-m", "service", "--model-repository", str(copy), "--port", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"serve: error: cannot load models: {copy / relative}: not readable")
    assert f"uid {os.getuid()}" in lines[0] and "chmod -R a+rX" in lines[0]


def test_readable_repository_passes_the_check(copy: Path):
    code = "import sys; from service.runtime.file_permissions import first_unreadable; print(first_unreadable(sys.argv[1]))"
    result = subprocess.run([*unprivileged(), sys.executable, "-c", code, str(copy)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"
