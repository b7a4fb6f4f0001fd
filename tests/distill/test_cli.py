"""The `distill` command line end to end on tiny data, and its one-line user errors."""

import json

import pytest
import typer
from typer.testing import CliRunner

from distill import losses
from distill.cli import app
from tests import golden, tiny

runner = CliRunner()
QUICK = ["--epochs", "2", "--batch-size", "8", "--max-seq-len", "32", "--validation-fraction", "0.25",
         "--logging-steps", "1"]


def _tiny_run(teacher, data, out):
    result = runner.invoke(app, ["run", "--teacher", str(teacher), "--data", str(data),
                                 "--output", str(out), "--teacher-epochs", "2", *QUICK])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def run_dir(headless_teacher, reviews_csv, tmp_path_factory):
    return _tiny_run(headless_teacher, reviews_csv, tmp_path_factory.mktemp("run"))


def test_run_writes_report_and_plots(run_dir):
    report = json.loads((run_dir / "report.json").read_text())
    assert [row["name"] for row in report["models"]] == ["teacher (PyTorch)", "student (PyTorch)"]
    assert report["student_layers"] == 3 and report["layer_map"] == [0, 2, 4]
    for row in report["models"]:
        assert 0.0 <= row["accuracy"] <= 1.0 and set(row["latency_ms"]) == {"1", "32"}
    assert report["parameter_reduction"] > 0.2
    assert set(report["retention"]) == {"accuracy", "macro_f1", "positive_f1", "matthews"} and set(report["speedup"]) == {"1", "32"}
    assert report["plots"] == ["curves.png", "comparison.png"]
    for name in report["plots"]:
        assert (run_dir / name).read_bytes()[:4] == b"\x89PNG"
    assert "| student (PyTorch) |" in (run_dir / "report.md").read_text()
    assert any((run_dir / "logs" / "student").iterdir())


def test_run_reproduces_the_recorded_fingerprint(run_dir):
    # same seed, same tiny data: the same student weights and report metrics as recorded
    assert golden.differences(golden.recorded("text-classification"), golden.fingerprint(run_dir)) == []


def test_a_slightly_changed_loss_breaks_the_fingerprint(headless_teacher, reviews_csv, tmp_path, monkeypatch):
    # the soft-target term 1% heavier: the run is otherwise the recorded one
    monkeypatch.setattr(losses, "combine", golden.heavier_soft_targets(losses.combine, 1.01))
    run = _tiny_run(headless_teacher, reviews_csv, tmp_path / "run")
    problems = golden.differences(golden.recorded("text-classification"), golden.fingerprint(run))
    assert len(problems) >= 5, problems


def test_run_leaves_a_student_per_contract(run_dir):
    from tokenizers import Tokenizer
    from transformers import AutoModelForSequenceClassification

    student_dir = run_dir / "student"
    info = json.loads((student_dir / "distill_info.json").read_text())
    assert info["task"] == "text-classification" and info["labels"] == ["negative", "positive"]
    assert info["teacher_dir"] == str((run_dir / "teacher").resolve())
    assert (info["student_layers"], info["layer_map"], info["max_seq_len"]) == (3, [0, 2, 4], 32)
    assert set(info["metrics"]) >= {"accuracy", "macro_f1"}
    model = AutoModelForSequenceClassification.from_pretrained(str(student_dir))
    assert type(model).__name__ == "DistilBertForSequenceClassification"
    assert model.config.id2label == {0: "negative", 1: "positive"}
    assert Tokenizer.from_file(str(student_dir / "tokenizer.json")).encode("a great film").ids[0] == 2
    rows = [json.loads(line) for line in (student_dir / "validation.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {r["label"] for r in rows} <= {"negative", "positive"}
    teacher = AutoModelForSequenceClassification.from_pretrained(str(run_dir / "teacher"))
    assert teacher.config.id2label == {0: "negative", 1: "positive"}


def test_evaluate_rewrites_the_report(run_dir, tmp_path):
    result = runner.invoke(app, ["evaluate", "--student-dir", str(run_dir / "student"), "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["data"]["validation_examples"] == 6
    assert "retention" in result.output


def test_student_command_with_a_headed_teacher(headed_teacher, reviews_csv, tmp_path):
    result = runner.invoke(app, ["student", "--teacher", str(headed_teacher), "--data", str(reviews_csv),
                                 "--output", str(tmp_path), "--student-layers", "2", *QUICK])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "student" / "distill_info.json").read_text())["layer_map"] == [0, 3]


def _error(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


def test_student_command_refuses_a_headless_teacher(headless_teacher, reviews_csv, tmp_path):
    output = _error(["student", "--teacher", str(headless_teacher), "--data", str(reviews_csv), "-o", str(tmp_path)])
    assert "distill teacher" in output


def test_bad_column_lists_existing_columns(headless_teacher, reviews_csv, tmp_path):
    output = _error(["run", "--teacher", str(headless_teacher), "--data", str(reviews_csv),
                     "--text-column", "review", "-o", str(tmp_path)])
    assert "'review' not found" in output and "text, label" in output


def test_empty_and_single_class_data(headless_teacher, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n")
    assert "no rows" in _error(["run", "--teacher", str(headless_teacher), "--data", str(empty), "-o", str(tmp_path)])
    one = tiny.write_csv(tmp_path / "one.csv", [(t, "positive") for t in tiny.POSITIVE])
    assert "single class" in _error(["run", "--teacher", str(headless_teacher), "--data", str(one), "-o", str(tmp_path)])


def test_missing_teacher_folder(reviews_csv, tmp_path):
    assert "not found" in _error(["run", "--teacher", "./no/such/teacher", "--data", str(reviews_csv), "-o", str(tmp_path)])


@pytest.mark.parametrize("value", ["1.0", "-0.1"])
def test_attention_dropout_out_of_range_is_refused(reviews_csv, tmp_path, value):
    output = _error(["run", "--data", str(reviews_csv), "--attention-dropout", value, "-o", str(tmp_path)])
    assert "--attention-dropout" in output and "[0, 1)" in output


def test_build_default_refuses_to_overwrite(tmp_path):
    (tmp_path / "sentiment").mkdir()
    assert "--force" in _error(["build-default", "--output", str(tmp_path)])


def test_every_option_is_explained():
    command = typer.main.get_command(app)
    assert set(command.commands) == {"teacher", "student", "evaluate", "run", "export", "import", "general", "build-default"}
    for name, sub in command.commands.items():
        assert sub.help, name
        for param in sub.params:
            assert getattr(param, "help", None), f"{name} {param.name}"


def test_export_command_writes_a_model_folder(run_dir, tmp_path):
    target = tmp_path / "sentiment"
    result = runner.invoke(app, ["export", "--student-dir", str(run_dir / "student"), "--output-dir", str(target),
                                 "--variants", "fp32", "--max-validation-examples", "6"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["labels"] == ["negative", "positive"]
    assert (target / "model.onnx").is_file() and (target / "tokenizer.json").is_file()


def test_export_into_a_full_folder_needs_overwrite(run_dir, tmp_path):
    target = tmp_path / "sentiment"
    target.mkdir()
    (target / "old.txt").write_text("kept unless --overwrite")
    command = ["export", "--student-dir", str(run_dir / "student"), "--output-dir", str(target), "--variants", "fp32",
               "--max-validation-examples", "6"]
    output = _error(command)
    assert "not empty" in output and "--overwrite" in output and "Traceback" not in output
    assert (target / "old.txt").is_file()
    result = runner.invoke(app, [*command, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (target / "model.onnx").is_file() and not (target / "old.txt").exists()


def test_export_rejects_a_folder_that_is_not_a_student(tmp_path):
    assert "distill_info.json" in _error(["export", "--student-dir", str(tmp_path), "--output-dir", str(tmp_path / "m")])
