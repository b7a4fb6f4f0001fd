"""Checkpoint and resume, and the TensorBoard logs, through the CLI.

A run interrupted after its first epoch (a callback stops it right after the epoch's checkpoint
is written) and then resumed with --resume must end where an uninterrupted run ends."""

import json

import torch
from safetensors.torch import load_file
from transformers import TrainerCallback
from typer.testing import CliRunner

from distill import distillation_trainer as trainer_module
from distill.cli import app

ARGS = ["--epochs", "2", "--batch-size", "8", "--max-seq-len", "32", "--validation-fraction", "0.25",
        "--student-layers", "2", "--logging-steps", "1", "--learning-rate", "1e-3", "--seed", "5"]


class CountSteps(TrainerCallback):
    def __init__(self):
        self.steps = 0

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1


class StopAfterFirstEpoch(TrainerCallback):
    def on_epoch_end(self, args, state, control, **kwargs):
        control.should_training_stop = True  # the epoch's checkpoint is still saved first
        return control


def _run(teacher, data, out, *extra):
    result = CliRunner().invoke(app, ["student", "--teacher", str(teacher), "--data", str(data),
                                      "--output", str(out), *ARGS, *extra])
    assert result.exit_code == 0, result.output


def _state(out):
    (path,) = (out / "checkpoints" / "student").glob("checkpoint-*/trainer_state.json")
    return json.loads(path.read_text())


def test_an_interrupted_run_resumes_to_the_same_student(headed_teacher, reviews_csv, tmp_path, monkeypatch):
    whole, interrupted = tmp_path / "whole", tmp_path / "interrupted"
    _run(headed_teacher, reviews_csv, whole)
    steps = _state(whole)["global_step"]

    fit, callbacks = trainer_module.fit, []

    def fit_with(trainer, *args):
        for callback in callbacks:
            trainer.add_callback(callback)
        return fit(trainer, *args)

    monkeypatch.setattr(trainer_module, "fit", fit_with)
    callbacks[:] = [StopAfterFirstEpoch()]
    _run(headed_teacher, reviews_csv, interrupted)
    assert _state(interrupted)["global_step"] == steps // 2  # stopped after epoch one of two

    callbacks[:] = [counter := CountSteps()]
    _run(headed_teacher, reviews_csv, interrupted, "--resume")
    assert counter.steps == steps - steps // 2  # only the second epoch ran
    state = _state(interrupted)
    assert state["global_step"] == steps
    losses = [entry["step"] for entry in state["log_history"] if "loss" in entry]
    assert losses == list(range(1, steps + 1))  # each step logged once, the first epoch's kept

    ours = load_file(str(interrupted / "student" / "model.safetensors"))
    reference = load_file(str(whole / "student" / "model.safetensors"))
    for name, weight in reference.items():
        assert torch.allclose(ours[name], weight, atol=1e-5), name

    assert list((whole / "logs" / "student").rglob("events.out.tfevents.*")), "TensorBoard events"
