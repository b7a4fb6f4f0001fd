"""`serve --model-id ID[=NAME]`: names, the refusals made before anything is written, the import
through `distill import --if-changed` in a child process (first start imports, the next keeps),
and /v1/sentiment answered by an imported negative/positive classifier."""

from __future__ import annotations

import warnings

import pytest

from service.main import _imported
from service.model_ids import ModelId, ModelIdError, default_name, import_model_ids, parse_model_ids, sentiment_model
from service.settings import Settings
from tests.distill.importer.checkpoints import write_checkpoint
from tests.service.conftest import serving
from tests.service.model_folders import build_classifier_folder


@pytest.mark.parametrize("given, name", [
    ("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "distilbert-base-uncased-finetuned-sst-2-english"),
    ("/data/models/my teacher/", "my-teacher"), ("minilm", "minilm"), ("./ckpt", "ckpt"),
])
def test_the_default_name_is_the_last_part_of_the_id(given, name):
    assert default_name(given) == name


def test_ids_and_names_are_parsed():
    assert parse_model_ids(["org/model", "/data/ckpt=teacher", " minilm = minilm-teacher "]) == [
        ModelId("org/model", "model"), ModelId("/data/ckpt", "teacher"), ModelId("minilm", "minilm-teacher")]


@pytest.mark.parametrize("values, message", [
    (["a/model", "b/model"], "--model-id a/model and b/model both name the model 'model'; give one another name"),
    (["x=one", "y=one"], "both name the model 'one'"),
    (["org/model=../up"], "'../up' is not a model name"),
    (["=name"], "no checkpoint before '='"),
])
def test_bad_ids_are_refused_before_anything_runs(values, message):
    with pytest.raises(ModelIdError, match=message):
        parse_model_ids(values)


def test_the_start_stops_at_a_failed_import_and_names_it(tmp_path):
    calls = []
    with pytest.raises(ModelIdError, match="--model-id org/missing: the import failed \\(exit status 2"):
        import_model_ids([ModelId("org/missing", "missing"), ModelId("org/next", "next")], tmp_path / "models",
                         runner=lambda argv: calls.append(argv) or 2)
    assert len(calls) == 1 and calls[0][-5:] == ["--model", "org/missing", "--output-dir",
                                                 str(tmp_path / "models" / "missing"), "--if-changed"]


def test_two_ids_with_one_name_stop_serve_with_status_2(tmp_path, capsys):
    settings = Settings(model_repository=tmp_path / "models", model_id=["a/model", "b/model"])
    with pytest.raises(SystemExit) as stop:
        _imported(settings)
    assert stop.value.code == 2 and "both name the model 'model'" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()


def test_a_checkpoint_is_imported_on_the_first_start_and_kept_on_the_next(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checkpoint = write_checkpoint(tmp_path / "sst2", "distilbert", "classification")
    repository = tmp_path / "models"
    settings = Settings(model_repository=repository, model_id=[f"{checkpoint}=reviews"], models=["other"])
    assert _imported(settings).models == ["other", "reviews"]
    manifest = repository / "reviews" / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    _imported(settings)
    assert manifest.stat().st_mtime_ns == stamp  # unchanged source: the folder is kept
    with serving(repository) as client:
        response = client.post("/v1/classify", json={"model": "reviews", "inputs": "a wonderful film", "top_k": None})
    assert response.status_code == 200, response.text
    assert sorted(s["label"] for s in response.json()) == ["negative", "neutral", "positive"]


def test_an_imported_sentiment_classifier_answers_v1_sentiment(tmp_path, monkeypatch):
    monkeypatch.setattr("service.model_ids._run", lambda argv: 0)  # the folders below stand for the imports
    repository = tmp_path / "models"
    build_classifier_folder(repository / "sst2", ["NEGATIVE", "POSITIVE"])
    build_classifier_folder(repository / "topics", ["sport", "science"])
    settings = _imported(Settings(model_repository=repository, model_id=["org/sst2", "org/topics"]))
    assert settings.sentiment_model == "sst2"
    with serving(repository, sentiment_model=settings.sentiment_model) as client:
        response = client.post("/v1/sentiment", json={"inputs": "a wonderful film", "top_k": None})
    assert response.status_code == 200, response.text
    assert sorted(s["label"] for s in response.json()) == ["NEGATIVE", "POSITIVE"]
    build_classifier_folder(repository / "sst2-b", ["negative", "positive"])
    assert sentiment_model([ModelId("org/sst2", "sst2"), ModelId("org/b", "sst2-b")], repository) is None  # two
    build_classifier_folder(repository / "sentiment", ["negative", "positive"])  # the configured name exists
    assert _imported(Settings(model_repository=repository, model_id=["org/sst2"])).sentiment_model == "sentiment"
