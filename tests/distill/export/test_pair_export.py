"""Pair classification and regression from `distill run` to the model folder: what the manifest
says, and the exported graph matching the PyTorch student on padded pair batches."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from typer.testing import CliRunner

from distill.cli import app
from distill.export.config import ExportConfig
from distill.export.graph import torch_runner
from distill.export.parity import collect
from distill.folder_export import load_student
from distill.tasks.text import export as text_export
from tests import tiny

QUICK = ["--epochs", "1", "--teacher-epochs", "1", "--batch-size", "8", "--max-seq-len", "40",
         "--validation-fraction", "0.3", "--student-layers", "2"]


def pair_rows() -> list[tuple[str, str, str, str]]:
    """(text, text_pair, same|different, similarity score) for pairs of the tiny reviews."""
    positive, negative = tiny.POSITIVE, tiny.NEGATIVE
    rows = []
    for i in range(len(positive)):
        j = (i + 3) % len(positive)
        long = f"{positive[j]} , {positive[(j + 1) % len(positive)]}"
        rows += [(positive[i], long, "same", f"{4.0 + i / 10:.2f}"), (positive[i], negative[j], "different", "0.5"),
                 (negative[i], f"{negative[j]} and {negative[(j + 2) % len(negative)]}", "same", "4.25"),
                 (negative[i], positive[j], "different", f"{1.0 + i / 20:.2f}")]
    return rows


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pairs") / "pairs.tsv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["first", "second", "label", "score"])
        writer.writerows(pair_rows())
    return path


def run_and_export(teacher: Path, data: Path, out: Path, *options: str) -> Path:
    args = ["run", "--teacher", str(teacher), "--data", str(data), "--text-column", "first",
            "--text-pair-column", "second", "--output", str(out / "run"), "--export-to", str(out / "model"),
            *options]
    result = CliRunner().invoke(app, args + QUICK)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def teacher(tmp_path_factory) -> Path:
    return tiny.write_teacher(tmp_path_factory.mktemp("teacher"), layers=4, with_head=False)


@pytest.fixture(scope="module")
def classifier(teacher, data_file, tmp_path_factory) -> Path:
    return run_and_export(teacher, data_file, tmp_path_factory.mktemp("nli"), "--label-column", "label")


@pytest.fixture(scope="module")
def regressor(teacher, data_file, tmp_path_factory) -> Path:
    return run_and_export(teacher, data_file, tmp_path_factory.mktemp("sts"), "--label-column", "score")


def test_pair_classifier_manifest(classifier):
    manifest = json.loads((classifier / "model" / "manifest.json").read_text())
    assert manifest["task"] == "text-classification" and manifest["pairs"] is True
    assert manifest["labels"] == ["different", "same"] and manifest["headline_metric"] == "accuracy"
    assert manifest["inputs"] == ["input_ids", "attention_mask"]  # the student takes no token types
    fp32 = manifest["variants"]["fp32"]["validation"]
    assert fp32["status"] == "passed" and fp32["max_abs_diff"] <= 1e-4 and fp32["label_agreement"] == 1.0
    info = json.loads((classifier / "run" / "student" / "distill_info.json").read_text())
    assert info["pairs"] is True
    first = json.loads((classifier / "run" / "student" / "validation.jsonl").read_text().splitlines()[0])
    assert set(first) == {"text", "text_pair", "label"}


def test_regressor_manifest_and_report(regressor):
    manifest = json.loads((regressor / "model" / "manifest.json").read_text())
    assert (manifest["task"], manifest["labels"], manifest["outputs"]) == ("regression", [], ["logits"])
    assert manifest["pairs"] is True and manifest["headline_metric"] == "spearman"
    int8 = manifest["variants"]["int8"]["validation"]
    assert {"pearson", "spearman", "spearman_drop"} <= set(int8)
    report = json.loads((regressor / "model" / "report.json").read_text())
    names = [row["name"] for row in report["models"]]
    assert names[:2] == ["teacher (PyTorch)", "student (PyTorch)"] and "student INT8 (ONNX Runtime)" in names
    assert all(-1.0 <= row["spearman"] <= 1.0 for row in report["models"])


@pytest.mark.parametrize("which", ["classifier", "regressor"])
def test_exported_graph_matches_the_student_on_padded_pair_batches(which, request):
    out = request.getfixturevalue(which)
    student = load_student(out / "run" / "student")
    config = ExportConfig(student_dir=out / "run" / "student", output_dir=out / "model", batch_size=8)
    validation = student.task.read_export_validation(student, config)
    inputs = text_export.prepare_inputs(out / "model", student, validation, config)
    assert any((batch.attention_mask == 0).any() for batch in inputs.batches)  # padding inside the batches
    assert all(batch.token_type_ids is not None and batch.token_type_ids.max() == 1 for batch in inputs.batches)
    session = ort.InferenceSession(str(out / "model" / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx = collect(lambda batch: session.run(["logits"], batch.feeds())[0], inputs.batches)
    torch = collect(torch_runner(student.model, "logits"), inputs.batches)
    assert onnx.logits.shape == (len(validation.texts), 1 if which == "regressor" else 2)
    assert np.max(np.abs(onnx.logits - torch.logits)) <= 1e-4
