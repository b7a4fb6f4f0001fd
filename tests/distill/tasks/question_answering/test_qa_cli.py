"""`distill run --task question-answering` end to end on a tiny teacher and a tiny SQuAD file
(the `qa_run` fixture), then `distill evaluate` and the CLI's errors."""

import json

from typer.testing import CliRunner

from distill import losses
from distill.cli import app
from tests import golden
from tests.distill.tasks.question_answering.conftest import COMMON, QUICK, tiny_qa_run

runner = CliRunner()


def test_run_writes_a_qa_report(qa_run):
    report = json.loads((qa_run / "report.json").read_text())
    assert report["task"] == "question-answering"
    assert [row["name"] for row in report["models"]] == ["teacher (PyTorch)", "student (PyTorch)"]
    for row in report["models"]:
        assert 0.0 <= row["exact_match"] <= row["f1"] <= 1.0 and set(row["latency_ms"]) == {"1", "32"}
        assert "accuracy" not in row
    assert set(report["retention"]) == {"exact_match", "f1"}
    assert report["student_layers"] == 2 and report["layer_map"] == [0, 3]
    assert report["data"]["validation_examples"] == 4
    assert "| model | device | exact match | F1 |" in (qa_run / "report.md").read_text()


def test_run_reproduces_the_recorded_fingerprint(qa_run):
    # same seed, same tiny data: the same student weights and report metrics as recorded
    assert golden.differences(golden.recorded("question-answering"), golden.fingerprint(qa_run)) == []


def test_a_slightly_changed_loss_breaks_the_fingerprint(qa_teacher, squad_v1, tmp_path, monkeypatch):
    # the soft-target term 1% heavier: the run is otherwise the recorded one (the `qa_run` fixture)
    monkeypatch.setattr(losses, "combine", golden.heavier_soft_targets(losses.combine, 1.01))
    run = tiny_qa_run(qa_teacher, squad_v1, tmp_path)
    problems = golden.differences(golden.recorded("question-answering"), golden.fingerprint(run))
    assert len(problems) >= 5, problems


def test_run_leaves_a_span_student_per_contract(qa_run):
    from transformers import AutoModelForQuestionAnswering

    student = qa_run / "student"
    info = json.loads((student / "distill_info.json").read_text())
    assert info["task"] == "question-answering"
    assert (info["max_seq_len"], info["doc_stride"], info["max_question_len"], info["max_answer_len"]) == (48, 16, 16, 30)
    assert info["handle_impossible_answer"] is False and set(info["metrics"]) >= {"exact_match", "f1", "teacher_f1"}
    rows = [json.loads(line) for line in (student / "validation_qa.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(set(r) == {"id", "title", "question", "context", "answers"} for r in rows)
    assert type(AutoModelForQuestionAnswering.from_pretrained(str(student))).__name__ == "DistilBertForQuestionAnswering"
    teacher = json.loads((qa_run / "teacher" / "config.json").read_text())
    assert teacher["architectures"] == ["BertForQuestionAnswering"]


def test_evaluate_reads_the_qa_validation_file(qa_run, tmp_path):
    result = runner.invoke(app, ["evaluate", "--student-dir", str(qa_run / "student"), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["task"] == "question-answering" and report["data"]["validation_examples"] == 4


def test_qa_needs_squad_data_and_a_known_task(qa_teacher, tmp_path):
    result = runner.invoke(app, ["run", "--task", "question-answering", "--teacher", str(qa_teacher), "-o", str(tmp_path)])
    assert result.exit_code == 2 and "SQuAD-format data" in result.output
    result = runner.invoke(app, ["run", "--task", "ner", "--teacher", str(qa_teacher), "-o", str(tmp_path)])
    assert result.exit_code == 2 and "unknown task" in result.output
    missing = runner.invoke(app, ["run", "--teacher", str(qa_teacher), "--data", str(tmp_path / "none.json"),
                                  "-o", str(tmp_path), *QUICK])
    assert missing.exit_code == 2 and "SQuAD file not found" in missing.output


def test_teacher_then_student_commands(qa_teacher, squad_v1, tmp_path):
    args = ["--data", str(squad_v1), "-o", str(tmp_path), *COMMON]
    refused = runner.invoke(app, ["student", "--teacher", str(qa_teacher), *args])
    assert refused.exit_code == 2 and "no question-answering head" in refused.output
    result = runner.invoke(app, ["teacher", "--teacher", str(qa_teacher), *args])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["student", "--teacher", str(tmp_path / "teacher"), "--student-layers", "1", *args])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "student" / "distill_info.json").read_text())
    assert info["task"] == "question-answering" and info["layer_map"] == [0]
    assert (tmp_path / "student" / "validation_qa.jsonl").is_file()


def test_unanswerable_questions_switch_on_the_empty_answer(tmp_path, squad_v1):
    from distill.tasks.question_answering.data import QADataConfig, load_qa_data
    from distill.tasks.question_answering.options import QAOptions, with_impossible
    from tests.distill.tasks.question_answering import tiny_squad

    v2 = tiny_squad.write_squad(tmp_path / "v2.json", tiny_squad.squad_document(impossible=[
        ("Moon", "the moon circles the earth .", "who built the moon ?")]))
    plain = load_qa_data(QADataConfig(str(squad_v1), validation_source=str(squad_v1)))
    with_none = load_qa_data(QADataConfig(str(v2), validation_source=str(v2)))
    assert not with_impossible(QAOptions(), plain).spans.allow_impossible
    assert with_impossible(QAOptions(), with_none).spans.allow_impossible
