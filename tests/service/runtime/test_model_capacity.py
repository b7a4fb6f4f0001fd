"""A model folder whose graph cannot run at its manifest's max_seq_len, and warm-up failures:
refused at load time with the folder and the numbers, or (with --skip-bad-models) listed as
failed while the other models serve. Never a server that stays live but never ready."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from modelfolder.manifest import ModelFolderError
from service.main import create_app
from service.serving.loading import load_models
from tests.service.conftest import make_settings, serving, wait_ready
from tests.service.model_folders import SENTIMENT_LABELS, build_classifier_folder, build_rule_qa_folder
from tests.service.routes.test_api import error_of

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def short_repository(repository, tmp_path_factory) -> Path:
    """`short`: 16 position embeddings, manifest max_seq_len 32; and a good `sentiment`."""
    root = tmp_path_factory.mktemp("short")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_classifier_folder(root / "short", SENTIMENT_LABELS, max_seq_len=32, positions=16)
    shutil.copytree(repository / "sentiment", root / "sentiment")
    return root


def test_a_graph_shorter_than_max_seq_len_is_refused_with_the_numbers(short_repository):
    with pytest.raises(ModelFolderError) as caught:
        load_models(make_settings(short_repository))
    message = str(caught.value)
    assert str(short_repository / "short") in message
    assert "32" in message and "16" in message and "max_seq_len" in message


def test_serve_exits_1_naming_the_short_folder(short_repository):
    result = subprocess.run(
        [sys.executable, "-m", "service", "--model-repository", str(short_repository), "--port", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "short" in result.stderr and "max_seq_len" in result.stderr
    assert "Traceback" not in result.stderr


def test_skip_bad_models_serves_the_rest_and_lists_the_short_one(short_repository):
    with serving(short_repository, skip_bad_models=True) as client:
        listing = client.get("/v1/models").json()
        assert [m["name"] for m in listing["models"]] == ["sentiment"]
        (failed,) = listing["failed"]
        assert failed["name"] == "short" and "16" in failed["error"]


def _failing_run(runtime, longest: int):
    real = runtime.run

    def run(sequences):
        if max(len(s) for s in sequences) > longest:
            raise RuntimeError("injected: graph fails on long inputs")
        return real(sequences)

    return run


def test_a_warm_up_failure_stops_start_up_with_a_message(repository):
    settings = make_settings(repository)
    models = load_models(settings)
    models.runtimes["topic"].run = _failing_run(models.runtimes["topic"], 8)
    stops: list[str] = []
    app = create_app(settings, models, on_fatal=stops.append)
    with TestClient(app, raise_server_exceptions=False) as client:
        for _ in range(200):
            if stops:
                break
            client.get("/healthz")
        assert len(stops) == 1 and "topic" in stops[0] and "warm-up" in stops[0]
        assert "RuntimeError" in stops[0]
        error = error_of(client.get("/readyz"), 503)
        assert "topic" in error["message"]


def test_with_skip_bad_models_a_warm_up_failure_marks_the_model_failed(repository):
    settings = make_settings(repository, skip_bad_models=True)
    models = load_models(settings)
    models.runtimes["topic"].run = _failing_run(models.runtimes["topic"], 8)
    stops: list[str] = []
    with TestClient(create_app(settings, models, on_fatal=stops.append)) as client:
        wait_ready(client)
        listing = client.get("/v1/models").json()
        assert [m["name"] for m in listing["models"]] == ["sentiment"]
        (failed,) = listing["failed"]
        assert failed["name"] == "topic" and "warm-up" in failed["error"]
        assert client.post("/v1/sentiment", json={"inputs": "fine"}).status_code == 200
        error_of(client.post("/v1/classify", json={"model": "topic", "inputs": "x"}), 404)
    assert stops == []


def test_serve_exits_1_when_a_model_fails_its_warm_up(tmp_path):
    """A graph that runs only at exactly max_seq_len passes the capacity check; the warm-up's
    shorter batches fail, and the server stops instead of staying live but never ready."""
    build_rule_qa_folder(tmp_path / "fixed", fixed_length=True)
    result = subprocess.run(
        [sys.executable, "-m", "service", "--model-repository", str(tmp_path), "--port", "0",
         "--warmup-batches", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("serve: error:") and "fixed" in last and "warm-up failed" in last
    assert "Traceback" not in result.stderr
