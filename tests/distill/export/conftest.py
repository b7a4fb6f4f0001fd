"""Fixtures for the export tests: one tiny teacher and student, exported once per session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.tiny import write_student, write_teacher

RUN_REPORT = {
    "task": "text-classification",
    "teacher": "tiny-bert-teacher",
    "data": {"source": "tiny"},
    "student_layers": 2,
    "layer_map": [0, 2],
    "models": [
        {"name": "teacher (PyTorch)", "accuracy": 0.5, "macro_f1": 0.33, "parameters": 1,
         "size_bytes": None, "latency_ms": {"1": 9.0, "32": 90.0}},
        {"name": "student (PyTorch)", "accuracy": 1.0, "macro_f1": 1.0, "parameters": 1,
         "size_bytes": None, "latency_ms": {"1": 4.0, "32": 40.0}},
    ],
    "retention": {"accuracy": 0.25, "macro_f1": 0.25},
    "speedup": {"1": 0.5, "32": 0.5},
    "training": {"student": {"steps": 10, "seconds": 1.5}},
    "plots": ["curves.png", "comparison.png", "missing.png"],
}


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    """A run directory like `distill run` leaves: teacher/, student/, report.json."""
    root = tmp_path_factory.mktemp("run")
    teacher = write_teacher(root / "teacher", layers=4, with_head=True)
    write_student(root / "student", teacher_dir=teacher)
    (root / "report.json").write_text(json.dumps(RUN_REPORT))
    (root / "curves.png").write_bytes(b"\x89PNG not really")
    (root / "comparison.png").write_bytes(b"\x89PNG the run's teacher vs student")
    return root


def fast_config(run_dir: Path, output: Path, **overrides):
    from distill.export.config import ExportConfig
    from distill.latency import LatencyConfig

    options = {"student_dir": run_dir / "student", "latency": LatencyConfig(warmup=1, repeats=3), "threads": 1}
    options.update(overrides)
    return ExportConfig(output_dir=output, **options)


@pytest.fixture(scope="session")
def exported(run_dir, tmp_path_factory) -> Path:
    """The model folder exported from the tiny student (all three variants)."""
    from distill.folder_export import export_model_folder

    output = tmp_path_factory.mktemp("models") / "sentiment"
    export_model_folder(fast_config(run_dir, output))
    return output


@pytest.fixture()
def folder_copy(exported, tmp_path) -> Path:
    """A private copy of the exported folder, for tests that damage it."""
    target = tmp_path / "copy"
    shutil.copytree(exported, target)
    return target
