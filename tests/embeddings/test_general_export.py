"""`distill export --embeddings` of a general student (`distill general`): its
encoder with the teacher's pooling becomes an embedding model folder, checked like any export."""

import json

from typer.testing import CliRunner

from distill.cli import app
from tests import tiny
from tests.embeddings.conftest import write_sts

runner = CliRunner()


def test_a_general_student_exports_as_an_embedding_model(embedding_teacher, sentences_csv, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(text for text, _ in tiny.validation_rows()) + "\n")
    general = runner.invoke(app, ["general", "--teacher", str(embedding_teacher), "--corpus", str(corpus),
                                  "-o", str(tmp_path / "general"), "--max-steps", "2", "--batch-size", "8",
                                  "--max-seq-len", "32"])
    assert general.exit_code == 0, general.output
    sts = write_sts(tmp_path / "sts.tsv")
    result = runner.invoke(app, ["export", "--student-dir", str(tmp_path / "general" / "student"), "--embeddings",
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


def test_a_task_student_is_not_a_general_one(tmp_path, sentences_csv):
    (tmp_path / "student").mkdir()
    result = runner.invoke(app, ["export", "--student-dir", str(tmp_path / "student"), "--embeddings",
                                 "--data", str(sentences_csv), "--output-dir", str(tmp_path / "model")])
    assert result.exit_code == 2 and "not a general student" in result.output
