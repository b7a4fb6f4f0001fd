"""`make run`'s variables as `make -n` expands them (nothing runs): MODEL_ID passes --model-id flags
and skips the default build unless BUILD_DEFAULT=1; TEACHERS=1 adds each built student's teacher."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned(tmp_path: Path, *variables: str) -> str:
    repository = tmp_path / "models"  # empty: the default build is due unless skipped
    done = subprocess.run(["make", "-n", "run", f"MODEL_REPOSITORY={repository}", *variables], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_model_ids_become_flags_and_skip_the_default_build(tmp_path):
    plan = planned(tmp_path, "MODEL_ID=org/model ./ckpt=mine")
    assert "--model-id org/model" in plan and "--model-id ./ckpt=mine" in plan
    assert "build-default" not in plan
    assert "build-default" in planned(tmp_path, "MODEL_ID=org/model", "BUILD_DEFAULT=1")


def test_teachers_are_served_beside_the_students_they_taught(tmp_path):
    plan = planned(tmp_path, "TEACHERS=1", "EMBEDDINGS=1")
    assert f"--model-id {tmp_path / 'models'}/.runs/sentiment/teacher=sentiment-teacher" in plan
    assert "--model-id minilm=embeddings-teacher" in plan
    assert "qa-teacher" not in plan and "build-default" in plan


def test_a_plain_run_builds_the_default_models_and_passes_no_model_id(tmp_path):
    plan = planned(tmp_path)
    assert "build-default" in plan and "--model-id" not in plan
