"""`distill run --task feature-extraction` and `distill export` on a tiny encoder, end to end: the
student folder, the report, and a model folder whose graph pools and normalises, checked here
against the PyTorch embedder."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from distill.cli import app
from tests import golden

runner = CliRunner()
QUICK = ["--epochs", "2", "--batch-size", "8", "--max-seq-len", "32", "--validation-fraction", "0.25",
         "--logging-steps", "1"]


def _run(teacher, data, out, *extra):
    result = runner.invoke(app, ["run", "--task", "feature-extraction", "--teacher", str(teacher), "--data", str(data),
                                 "--output", str(out), *QUICK, *extra])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def sts_run(embedding_teacher, sentences_csv, sts_tsv, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return _run(embedding_teacher, sentences_csv, out, "--sts-data", str(sts_tsv), "--export-to", str(out / "model"))


def test_the_student_folder_declares_its_pooling(sts_run):
    from distill.tasks.embeddings.pooling import read_pooling

    student = sts_run / "student"
    info = json.loads((student / "distill_info.json").read_text())
    assert info["task"] == "feature-extraction" and info["headline"] == "spearman" and info["labels"] == []
    assert info["layer_map"] == [0, 3] and read_pooling(student).mode == "mean" and read_pooling(student).normalize
    assert len((student / "validation.jsonl").read_text().splitlines()) == 18
    assert len((student / "validation_sts.jsonl").read_text().splitlines()) == 24
    assert {"spearman", "teacher_spearman", "mean_cosine"} <= set(info["metrics"])


def test_the_report_compares_teacher_and_student(sts_run):
    report = json.loads((sts_run / "report.json").read_text())
    teacher, student = report["models"][:2]
    assert report["task"] == "feature-extraction" and report["headline"] == "spearman"
    assert teacher["mean_cosine"] == pytest.approx(1.0, abs=1e-6)
    assert 0.0 < student["mean_cosine"] <= 1.0 + 1e-6 and -1.0 <= student["spearman"] <= 1.0
    history = report["training"]["student"]["history"]
    assert any("loss_mse" in h and "loss_embedding_cos" in h and "loss_cos" in h for h in history)


def test_run_reproduces_the_recorded_fingerprint(sts_run):
    # same seed, same tiny data: the same student weights and report metrics as recorded
    assert golden.differences(golden.recorded("feature-extraction"), golden.fingerprint(sts_run)) == []


def test_the_model_folder_follows_the_contract(sts_run):
    from modelfolder.manifest import load_model_folder

    manifest = load_model_folder(sts_run / "model")
    assert manifest.task == "feature-extraction" and manifest.outputs == ["embedding"] and manifest.labels == []
    assert manifest.headline_metric == "spearman"
    assert manifest.embedding.dimension == 32 and manifest.embedding.pooling == "mean" and manifest.embedding.normalize
    int8 = manifest.variants["int8"].validation
    assert "spearman_drop" in int8.model_dump() and manifest.variants["fp32"].validation.status == "passed"
    rows = json.loads((sts_run / "model" / "report.json").read_text())["models"]
    assert [r["name"] for r in rows][:3] == ["teacher (PyTorch)", "student (PyTorch)", "student fp32 (ONNX Runtime)"]


def test_the_graph_pools_and_normalises_like_the_student(sts_run):
    import onnxruntime as ort
    import torch

    from distill.tasks.embeddings.models import load_embedder

    folder = sts_run / "model"
    sample = json.loads((folder / "manifest.json").read_text())["validation_sample"]["file"]
    sequences = [json.loads(line)["input_ids"] for line in (folder / sample).read_text().splitlines()][:8]
    width = max(len(s) for s in sequences)
    ids = np.array([s + [0] * (width - len(s)) for s in sequences], dtype=np.int64)
    mask = np.array([[1] * len(s) + [0] * (width - len(s)) for s in sequences], dtype=np.int64)
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    output = session.get_outputs()[0]
    assert output.name == "embedding" and output.shape[1] == 32
    (graph,) = session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})
    assert graph.shape == (8, 32) and np.allclose(np.linalg.norm(graph, axis=1), 1.0, atol=1e-5)
    student = load_embedder(str(sts_run / "student")).eval()
    with torch.inference_mode():
        expected = student(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).embedding.numpy()
    assert np.abs(graph - expected).max() < 1e-4
    # padding does not change a sentence's embedding
    (alone,) = session.run(["embedding"], {"input_ids": ids[:1, : len(sequences[0])], "attention_mask": mask[:1, : len(sequences[0])]})
    assert np.abs(alone[0] - graph[0]).max() < 1e-4


def test_without_sts_pairs_the_headline_is_the_mean_cosine(embedding_teacher, sentences_csv, tmp_path):
    out = _run(embedding_teacher, sentences_csv, tmp_path, "--epochs", "1", "--export-to", str(tmp_path / "model"))
    report = json.loads((out / "report.json").read_text())
    assert report["headline"] == "mean_cosine" and "spearman" not in report["models"][1]
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["headline_metric"] == "mean_cosine"
    assert "mean_cosine_drop" in manifest["variants"]["int8"]["validation"]


def test_spearman_without_sts_pairs_is_refused(embedding_teacher, sentences_csv, tmp_path):
    result = runner.invoke(app, ["run", "--task", "feature-extraction", "--teacher", str(embedding_teacher), "--data",
                                 str(sentences_csv), "--output", str(tmp_path), "--metric", "spearman", *QUICK])
    assert result.exit_code == 2 and "spearman needs --sts-data" in result.output


def test_evaluate_rescores_the_student_on_its_own_files(sts_run, tmp_path):
    result = runner.invoke(app, ["evaluate", "--output", str(tmp_path), "--student-dir", str(sts_run / "student")])
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "report.json").read_text())["models"]
    before = json.loads((sts_run / "report.json").read_text())["models"]
    for new, old in zip(again, before):
        assert new["spearman"] == pytest.approx(old["spearman"], abs=1e-6)
        assert new["mean_cosine"] == pytest.approx(old["mean_cosine"], abs=1e-6)


def test_the_service_answers_with_the_students_embeddings(sts_run, tmp_path):
    # the exported folder, served: /v1/embeddings gives what the PyTorch student gives for the same text
    import torch
    from tokenizers import Tokenizer

    from distill.tasks.embeddings.models import load_embedder
    from tests.service.conftest import serving

    repository = tmp_path / "models"
    repository.mkdir()
    (repository / "embed").symlink_to(sts_run / "model")
    texts = ["a gorgeous film", "the plot is a tedious mess of scenes"]
    with serving(repository, variant="fp32") as client:
        response = client.post("/v1/embeddings", json={"input": texts, "model": "embed"})
    assert response.status_code == 200, response.text
    served = np.array([row["embedding"] for row in response.json()["data"]])
    tokenizer = Tokenizer.from_file(str(sts_run / "model" / "tokenizer.json"))
    student = load_embedder(str(sts_run / "student")).eval()
    with torch.inference_mode():
        expected = np.stack([student(input_ids=torch.tensor([tokenizer.encode(t).ids]),
                                     attention_mask=torch.tensor([tokenizer.encode(t).attention_mask])).embedding[0].numpy()
                             for t in texts])
    assert served.shape == (2, 32) and np.abs(served - expected).max() < 1e-4
