"""`distill general` end to end on tiny teachers, two-step distillation with --student-init, and the
same command under torchrun."""

import json
import math
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from distill.cli import app
from tests import tiny

runner = CliRunner()
QUICK = ["--max-seq-len", "24", "--batch-size", "8", "--epochs", "3", "--learning-rate", "1e-3",
         "--warmup-ratio", "0", "--logging-steps", "1", "--held-out", "0.2", "--student-layers", "2"]


def _losses(out, term="loss"):
    history = json.loads((out / "report.json").read_text())["training"]["history"]
    return [h[term] for h in history if term in h]


@pytest.fixture(scope="module")
def general_run(mlm_teacher, corpus_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("general")
    result = runner.invoke(app, ["general", "--teacher", str(mlm_teacher), "--corpus", str(corpus_file),
                                 "-o", str(out), *QUICK])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_general_distillation_with_an_mlm_teacher(general_run):
    from transformers import AutoModelForMaskedLM

    out, output = general_run
    report = json.loads((out / "report.json").read_text())
    assert report["teacher_has_mlm_head"] and report["layer_map"] == [0, 3]
    logged = [h for h in report["training"]["history"] if "loss" in h]
    assert {"loss_ce", "loss_mlm", "loss_cos"} <= set(logged[0]) and "loss_mse" not in logged[0]
    losses = _losses(out)
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3  # it learns
    held = report["held_out"]
    for name in ("teacher", "student"):
        assert 0.0 <= held[name]["masked_accuracy"] <= 1.0 and held[name]["perplexity"] > 1.0
    assert 0.0 < held["hidden_cosine"] <= 1.0 and report["corpus"]["documents"] == 60
    student = AutoModelForMaskedLM.from_pretrained(str(out / "student"))
    assert type(student).__name__ == "DistilBertForMaskedLM" and student.config.n_layers == 2
    assert json.loads((out / "student" / "general_info.json").read_text())["layer_map"] == [0, 3]
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG" and "## Held-out text" in (out / "report.md").read_text()


def test_a_teacher_without_mlm_head_distils_hidden_states_only(encoder_teacher, corpus_file, tmp_path):
    result = runner.invoke(app, ["general", "--teacher", str(encoder_teacher), "--corpus", str(corpus_file),
                                 "-o", str(tmp_path), *QUICK])
    assert result.exit_code == 0, result.output
    assert "has no masked-LM head" in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    logged = [h for h in report["training"]["history"] if "loss" in h]
    assert set(logged[0]) >= {"loss_cos", "loss_mse"} and not {"loss_ce", "loss_mlm"} & set(logged[0])
    assert "teacher" not in report["held_out"] and 0.0 < report["held_out"]["hidden_cosine"] <= 1.0
    assert report["training"]["steps"] > 0 and all(0.0 < loss < 10.0 for loss in _losses(tmp_path))


def test_two_step_distillation_starts_the_task_student_from_the_general_one(general_run, mlm_teacher, tmp_path):
    out, _ = general_run
    data = tiny.write_csv(tmp_path / "reviews.csv", tiny.labelled_sentences())
    result = runner.invoke(app, ["run", "--teacher", str(mlm_teacher), "--data", str(data), "-o", str(tmp_path / "run"),
                                 "--student-init", str(out / "student"), "--epochs", "1", "--teacher-epochs", "1",
                                 "--batch-size", "8", "--max-seq-len", "32", "--validation-fraction", "0.25"])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "run" / "student" / "distill_info.json").read_text())
    assert info["layer_map"] == [0, 3] and info["student_init"] == str((out / "student").resolve())
    refused = runner.invoke(app, ["student", "--teacher", str(tmp_path / "run" / "teacher"), "--data", str(data),
                                  "-o", str(tmp_path / "again"), "--student-init", str(tmp_path)])
    assert refused.exit_code == 2 and "not a general student" in refused.output


def test_general_distillation_under_torchrun(mlm_teacher, corpus_file, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "distill.cli", "general", "--teacher", str(mlm_teacher), "--corpus", str(corpus_file),
               "-o", str(tmp_path), *QUICK[:-6], "--epochs", "1", "--student-layers", "2"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    # one epoch, 8 sequences per process and step, 2 processes
    assert report["training"]["steps"] == math.ceil(report["corpus"]["train_sequences"] / 16)
    assert (tmp_path / "student" / "model.safetensors").is_file()
