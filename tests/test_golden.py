"""The golden fingerprint's comparison: what it ignores (the host's float kernels, the free
parameters) and what it catches. The runs themselves are checked in tests/distill/test_cli.py and
tests/distill/tasks/question_answering/test_qa_cli.py, each with a slightly changed loss that must
break its fingerprint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import golden

ROOT = Path(__file__).resolve().parents[1]
RECORDED_RUN_TESTS = [
    "tests/distill/test_cli.py::test_run_reproduces_the_recorded_fingerprint",
    "tests/distill/tasks/question_answering/test_qa_cli.py::test_run_reproduces_the_recorded_fingerprint",
    "tests/distill/tasks/token_classification/test_tc_cli.py::test_run_reproduces_the_recorded_fingerprint",
]


def _fingerprint(tensors: dict, metrics: dict | None = None) -> dict:
    return {"tensors": tensors, "metrics": metrics or {"student": {"accuracy": 0.5}}}


def test_each_tensor_is_compared_at_the_scale_of_its_values():
    recorded = _fingerprint({"big": [100.0, 10_000.0], "near_zero": [1e-5, 4e-6]})  # norms 100 and 2e-3
    # 1e-6 of each tensor's norm: rounding, within tolerance
    assert golden.differences(recorded, _fingerprint({"big": [100.0001, 10_000.0], "near_zero": [1.0002e-5, 4e-6]})) == []
    # 1e-4 of the big tensor's norm: a real change
    problems = golden.differences(recorded, _fingerprint({"big": [100.01, 10_000.0], "near_zero": [1e-5, 4e-6]}))
    assert len(problems) == 1 and problems[0].startswith("big: moved by 1.00e-04")
    # 1e-5 added to the near-zero tensor's sum is 5e-3 of its norm: a real change too
    problems = golden.differences(recorded, _fingerprint({"big": [100.0, 10_000.0], "near_zero": [2e-5, 4e-6]}))
    assert len(problems) == 1 and problems[0].startswith("near_zero: moved by 5.00e-03")
    problems = golden.differences(recorded, _fingerprint({"big": [100.0, 10_000.0], "near_zero": [1e-5, 4.01e-6]}))
    assert len(problems) == 1 and problems[0].startswith("near_zero:")


def test_metrics_allow_rounding_but_not_a_changed_prediction():
    recorded = _fingerprint({}, {"student": {"f1": 0.31875}})
    assert golden.differences(recorded, _fingerprint({}, {"student": {"f1": 0.31875 + 1e-6}})) == []
    assert golden.differences(recorded, _fingerprint({}, {"student": {"f1": 0.32875}})) != []
    assert golden.differences(recorded, _fingerprint({}, {"student": {"accuracy": 0.31875}})) != []


def test_free_parameters_are_those_the_losses_cannot_move():
    names = ["distilbert.transformer.layer.0.attention.k_lin.bias", "distilbert.transformer.layer.0.attention.q_lin.bias",
             "distilbert.transformer.layer.1.attention.k_lin.bias", "distilbert.transformer.layer.0.output_layer_norm.bias",
             "distilbert.transformer.layer.1.output_layer_norm.bias", "classifier.bias"]
    assert golden.free_parameters(names) == {names[0], names[2]}
    span = [*names[:-1], "qa_outputs.weight", "qa_outputs.bias"]
    assert golden.free_parameters(span) == {names[0], names[2], names[4], "qa_outputs.bias"}
    recorded = _fingerprint({names[0]: [1e-9, 1e-18], names[1]: [1.0, 1.0]})
    assert golden.differences(recorded, _fingerprint({names[0]: [5e-9, 3e-17], names[1]: [1.0, 1.0]})) == []


def test_the_recorded_runs_hold_with_other_float_kernels():
    # torch's scalar kernels instead of this host's vectorised ones, and two threads: another
    # summation order everywhere, as on another CPU
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "OMP_NUM_THREADS": "2"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *RECORDED_RUN_TESTS],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"{len(RECORDED_RUN_TESTS)} passed" in result.stdout
