"""`distill export --embeddings` of a general student (`distill general`): its
encoder with the teacher's pooling becomes an embedding model folder, checked like any export."""

import json

import pytest
from typer.testing import CliRunner

from distill.cli import app
from tests import tiny
from tests.distill.tasks.embeddings.conftest import write_sts

runner = CliRunner()


@pytest.fixture(scope="module")
def general_student(embedding_teacher, tmp_path_factory):
    folder = tmp_path_factory.mktemp("general")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(text for text, _ in tiny.validation_rows()) + "\n")
    general = runner.invoke(app, ["general", "--teacher", str(embedding_teacher), "--corpus", str(corpus),
                                  "-o", str(folder), "--max-steps", "2", "--batch-size", "8", "--max-seq-len", "32"])
    assert general.exit_code == 0, general.output
    return folder / "student"


def test_a_general_student_exports_as_an_embedding_model(general_student, sentences_csv, tmp_path):
    sts = write_sts(tmp_path / "sts.tsv")
    result = runner.invoke(app, ["export", "--student-dir", str(general_student), "--embeddings",
                                 "--data", str(sentences_csv), "--sts-data", str(sts),
                                 "--output-dir", str(tmp_path / "model"), "--variants", "fp32,int8"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["task"] == "feature-extraction" and manifest["headline_metric"] == "spearman"
    assert manifest["embedding"] == {"dimension": 32, "pooling": "mean", "normalize": True}
    assert manifest["layer_map"] == [0, 3] and manifest["variants"]["fp32"]["validation"]["status"] == "passed"
    rows = json.loads((tmp_path / "model" / "report.json").read_text())["models"]
    assert rows[0]["name"] == "teacher (PyTorch)" and rows[0]["mean_cosine"] > 0.999
    assert all("spearman" in row for row in rows)


def test_an_embedding_student_starts_from_a_general_one(general_student, embedding_teacher, sentences_csv, tmp_path):
    result = runner.invoke(app, ["run", "--task", "feature-extraction", "--teacher", str(embedding_teacher), "--data",
                                 str(sentences_csv), "--student-init", str(general_student), "-o", str(tmp_path),
                                 "--max-steps", "2", "--batch-size", "8", "--max-seq-len", "32"])
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "student" / "distill_info.json").read_text())
    assert info["student_init"] == str(general_student.resolve()) and info["layer_map"] == [0, 3]
    assert (tmp_path / "student" / "modules.json").is_file()


def test_a_task_student_is_not_a_general_one(tmp_path, sentences_csv):
    (tmp_path / "student").mkdir()
    result = runner.invoke(app, ["export", "--student-dir", str(tmp_path / "student"), "--embeddings",
                                 "--data", str(sentences_csv), "--output-dir", str(tmp_path / "model")])
    assert result.exit_code == 2 and "not a general student" in result.output
