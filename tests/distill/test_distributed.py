"""Two processes under torchrun (gloo, CPU) train the same student as one process.

The comparison is made exact by construction: a teacher without dropout, the same seed, and the
same global batch (one process x 8 examples vs two processes x 4). Each global step then sees the
same 8 examples, DDP averages the two halves' gradients (every loss term is a per-example mean),
so the final weights may differ only by floating-point summation order.
"""

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification
from typer.testing import CliRunner

from distill.cli import app
from distill.tasks.classification.models import build_student

ARGS = ["--epochs", "2", "--max-seq-len", "32", "--validation-fraction", "0.3333", "--student-layers", "2",
        "--logging-steps", "1", "--learning-rate", "1e-3", "--seed", "3"]


def _student_command(teacher, data, out, batch_size):
    return ["student", "--teacher", str(teacher), "--data", str(data), "--output", str(out),
            "--batch-size", str(batch_size), *ARGS]


@pytest.mark.slow
def test_two_processes_match_one(headed_teacher, reviews_csv, tmp_path):
    single, double = tmp_path / "one", tmp_path / "two"
    result = CliRunner().invoke(app, _student_command(headed_teacher, reviews_csv, single, 8))
    assert result.exit_code == 0, result.output

    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "distill.cli", *_student_command(headed_teacher, reviews_csv, double, 4)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]

    one = load_file(str(single / "student" / "model.safetensors"))
    two = load_file(str(double / "student" / "model.safetensors"))
    for name, weight in one.items():
        assert torch.allclose(weight, two[name], atol=2e-5, rtol=1e-4), name
    assert _steps(single) == _steps(double) == 2 * 2  # 16 training examples / global batch 8, two epochs
    # and training moved the weights far beyond that tolerance, so agreeing is not trivial
    teacher = AutoModelForSequenceClassification.from_pretrained(str(headed_teacher))
    initial = build_student(teacher, 2, ["negative", "positive"])[0].state_dict()
    moved = max((one[name] - initial[name]).abs().max().item() for name in one)
    assert moved > 1e-3


def _steps(run_dir):
    state = sorted((run_dir / "checkpoints" / "student").glob("checkpoint-*/trainer_state.json"))[-1]
    return json.loads(state.read_text())["global_step"]
