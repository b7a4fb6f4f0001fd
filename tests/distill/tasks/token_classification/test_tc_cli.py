"""`distill run --task token-classification` end to end on a tiny teacher and tiny CoNLL files
(the `tc_run` fixture), then `distill evaluate`, the teacher/student commands and the CLI's errors."""

import json

from typer.testing import CliRunner

from distill.cli import app
from tests import golden
from tests.distill.tasks.token_classification.conftest import COMMON, QUICK

runner = CliRunner()
METRICS = {"entity_precision", "entity_recall", "entity_f1"}
TAGS = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def test_run_writes_an_entity_report(tc_run):
    report = json.loads((tc_run / "report.json").read_text())
    assert report["task"] == "token-classification" and report["headline"] == "entity_f1"
    assert [row["name"] for row in report["models"]] == ["teacher (PyTorch)", "student (PyTorch)"]
    for row in report["models"]:
        assert METRICS <= set(row) and "accuracy" not in row and set(row["latency_ms"]) == {"1", "32"}
        assert all(0.0 <= row[key] <= 1.0 for key in METRICS)
    assert set(report["retention"]) == METRICS
    assert report["student_layers"] == 2 and report["layer_map"] == [0, 3]
    assert report["data"]["validation_examples"] == 3 and report["data"]["label_scheme"] == "IOB2"
    assert "| model | device | entity F1 | entity precision | entity recall |" in (tc_run / "report.md").read_text()
    losses = [h for h in report["training"]["student"]["history"] if "loss_kd" in h]
    assert losses and all({"loss_kd", "loss_ce", "loss_cos"} <= set(h) for h in losses)


def test_run_reproduces_the_recorded_fingerprint(tc_run):
    # same seed, same tiny data: the same student weights and report metrics as recorded
    assert golden.differences(golden.recorded("token-classification"), golden.fingerprint(tc_run)) == []


def test_run_leaves_a_tagging_student_per_contract(tc_run):
    from transformers import AutoModelForTokenClassification

    student = tc_run / "student"
    info = json.loads((student / "distill_info.json").read_text())
    assert info["task"] == "token-classification" and info["labels"] == TAGS
    assert (info["max_seq_len"], info["doc_stride"], info["label_scheme"], info["headline"]) == (8, 2, "IOB2", "entity_f1")
    assert set(info["metrics"]) == METRICS | {f"teacher_{key}" for key in METRICS}
    rows = [json.loads(line) for line in (student / "validation_tokens.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and rows[0] == {"tokens": "karl moved from vienna to rome".split(),
                                          "tags": ["B-PER", "O", "O", "B-LOC", "O", "B-LOC"]}
    model = AutoModelForTokenClassification.from_pretrained(str(student))
    assert type(model).__name__ == "DistilBertForTokenClassification"
    assert [model.config.id2label[i] for i in range(model.config.num_labels)] == TAGS
    teacher = json.loads((tc_run / "teacher" / "config.json").read_text())
    assert teacher["architectures"] == ["BertForTokenClassification"]


def test_evaluate_reads_the_token_validation_file(tc_run, tmp_path):
    result = runner.invoke(app, ["evaluate", "--student-dir", str(tc_run / "student"), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["task"] == "token-classification" and report["data"]["validation_examples"] == 3
    recorded = json.loads((tc_run / "report.json").read_text())["models"]
    for again, before in zip(report["models"], recorded):  # the same models on the same sentences
        assert abs(again["entity_f1"] - before["entity_f1"]) < 1e-6


def test_conll_files_need_no_task_option(tc_teacher, conll_files, tmp_path):
    train, dev = conll_files
    args = ["teacher", "--teacher", str(tc_teacher), "--data", str(train), "--validation-data", str(dev),
            "-o", str(tmp_path), *COMMON[2:], "--max-steps", "1"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "teacher" / "config.json").read_text())
    assert config["architectures"] == ["BertForTokenClassification"] and len(config["id2label"]) == len(TAGS)


def test_teacher_then_student_commands(tc_teacher, conll_files, tmp_path):
    train, dev = conll_files
    args = ["--data", str(train), "--validation-data", str(dev), "-o", str(tmp_path), *COMMON]
    refused = runner.invoke(app, ["student", "--teacher", str(tc_teacher), *args])
    assert refused.exit_code == 2 and "no token-classification head" in refused.output
    result = runner.invoke(app, ["teacher", "--teacher", str(tc_teacher), *args])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["student", "--teacher", str(tmp_path / "teacher"), "--student-layers", "1", *args])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "student" / "distill_info.json").read_text())
    assert info["task"] == "token-classification" and info["layer_map"] == [0]


def test_token_classification_errors_are_one_line(tc_teacher, conll_files, tmp_path):
    train, _ = conll_files
    result = runner.invoke(app, ["run", "--task", "token-classification", "--teacher", str(tc_teacher), "-o", str(tmp_path)])
    assert result.exit_code == 2 and "CoNLL-style files" in result.output
    missing = runner.invoke(app, ["run", "--teacher", str(tc_teacher), "--data", str(tmp_path / "none.conll"),
                                  "-o", str(tmp_path), *QUICK])
    assert missing.exit_code == 2 and "CoNLL file not found" in missing.output
    stride = runner.invoke(app, ["run", "--teacher", str(tc_teacher), "--data", str(train), "-o", str(tmp_path),
                                 *QUICK, "--doc-stride", "6"])
    assert stride.exit_code == 2 and "--doc-stride 6 must be" in stride.output
