"""Metrics by hand, and the report writer with extra (ONNX) rows."""

import json

import numpy as np
import pytest

from distill.run_report import CLASSIFICATION_METRICS as METRICS
from distill.run_report import render_markdown, summarise, write_report
from distill.tasks.classification.metrics import accuracy, macro_f1


def test_macro_f1_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predictions = np.array([0, 0, 1, 1, 2, 2])
    # class 0: TP 2 FP 0 FN 1 -> 4/5; class 1: TP 1 FP 1 FN 1 -> 2/4; class 2: TP 1 FP 1 FN 0 -> 2/3
    assert macro_f1(labels, predictions, 3) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert accuracy(labels, predictions) == pytest.approx(4 / 6)


def test_macro_f1_counts_a_never_predicted_class_as_zero():
    assert macro_f1(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0]), 2) == pytest.approx((2 / 3 + 0) / 2)


def _row(name, acc, params, ms1, ms32):
    return {"name": name, "accuracy": acc, "macro_f1": acc, "parameters": params, "size_bytes": None,
            "latency_ms": {"1": ms1, "32": ms32}}


def test_summary_and_markdown_with_extra_rows(tmp_path):
    teacher, student = _row("teacher (PyTorch)", 0.9, 1000, 4.0, 80.0), _row("student (PyTorch)", 0.88, 600, 2.0, 40.0)
    report = {"task": "text-classification", "teacher": "t", "data": {"source": "x"}, "student_layers": 3,
              "layer_map": [0, 2, 4], "models": [teacher, student], **summarise(teacher, student)}
    assert report["retention"]["accuracy"] == pytest.approx(0.88 / 0.9, abs=1e-4)
    assert report["speedup"] == {"1": 2.0, "32": 2.0}
    assert report["parameter_reduction"] == pytest.approx(0.4)
    report["models"].append({**_row("student ONNX int8", 0.87, 600, 1.0, 20.0), "size_bytes": 12345})
    write_report(report, tmp_path)
    written = json.loads((tmp_path / "report.json").read_text())
    assert written["models"][2]["size_bytes"] == 12345
    assert written["metric_names"] == dict(METRICS)  # the default task's names, for the model card
    table = [line for line in render_markdown(report).splitlines() if line.startswith("| ")]
    assert len(table) == 4  # header + three models
    assert "student ONNX int8" in table[3] and "12345" in table[3]
