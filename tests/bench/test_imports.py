"""Every module of bench/ imports (a moved or renamed module breaks here, not in the middle of a
long benchmark run), and every script answers --help as `python -m bench.<room>.<script>`."""

from __future__ import annotations

import importlib
import pkgutil
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import bench

ROOT = Path(__file__).resolve().parents[2]
# Run by the peers' own virtual environments, with packages this one lacks.
FOREIGN = {"bench.peers.apps.litserve_app"}


def _modules() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(bench.__path__, "bench.")]
    return sorted(name for name in names if name not in FOREIGN)


def _scripts() -> list[str]:
    """The modules that run as commands: a `__main__` guard, or a package's `__main__`."""
    found = []
    for name in _modules():
        path = Path(importlib.util.find_spec(name).origin)
        if path.name == "__main__.py":
            found.append(name.removesuffix(".__main__"))
        elif 'if __name__ == "__main__":' in path.read_text(encoding="utf-8"):
            found.append(name)
    return sorted(set(found))


@pytest.mark.parametrize("name", _modules())
def test_every_bench_module_imports(name):
    importlib.import_module(name)


def test_the_scripts_are_found():
    assert {"bench.loadgen", "bench.serving.load", "bench.peers.classification", "bench.distill.glue",
            "bench.gpu.distillation"} <= set(_scripts())


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # a module imported by another first
@pytest.mark.parametrize("name", _scripts())
def test_every_script_answers_help(name, monkeypatch, capsys):
    """As `python -m <name> --help` does (in this process: the imports are paid for once)."""
    monkeypatch.setattr(sys, "argv", [name, "--help"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_module(name, run_name="__main__", alter_sys=True)
    assert exit_.value.code in (0, None)
    assert "usage" in capsys.readouterr().out.lower()


def test_a_script_runs_with_python_m_from_the_repository_root():
    done = subprocess.run([sys.executable, "-m", "bench.serving.options", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--system" in done.stdout
