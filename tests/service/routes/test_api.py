"""Every endpoint and error status, against real ONNX Runtime sessions of tiny models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from service.tasks.scores import apply_function
from tests.service.conftest import serving
from tests.service.model_folders import SENTIMENT_LABELS, TOPIC_LABELS


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    assert "Traceback" not in response.text
    return body["error"]


def test_sentiment_single_text_gives_one_list(client):
    response = client.post("/v1/sentiment", json={"inputs": "a wonderful film"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result, list) and len(result) == 1
    assert result[0]["label"] in SENTIMENT_LABELS and 0.0 <= result[0]["score"] <= 1.0
    for header in ("X-Queue-Time-Ms", "X-Inference-Time-Ms"):
        assert float(response.headers[header]) >= 0.0


def test_list_input_gives_one_list_per_text_and_all_labels_with_null_top_k(client):
    texts = ["a wonderful film", "a dull film", "i hated every minute of it"]
    response = client.post("/v1/sentiment", json={"inputs": texts, "top_k": None})
    assert response.status_code == 200, response.text
    results = response.json()
    assert len(results) == 3
    for scores in results:
        assert sorted(s["label"] for s in scores) == sorted(SENTIMENT_LABELS)
        assert math.isclose(sum(s["score"] for s in scores), 1.0, rel_tol=1e-5)
        assert scores[0]["score"] >= scores[1]["score"]


def test_classify_uses_the_named_model_and_top_k(client):
    response = client.post("/v1/classify", json={"model": "topic", "inputs": ["great cast"], "top_k": 2})
    assert response.status_code == 200, response.text
    (scores,) = response.json()
    assert len(scores) == 2 and {s["label"] for s in scores} <= set(TOPIC_LABELS)


def test_function_to_apply_matches_the_logits(client):
    body = {"model": "topic", "inputs": "a joyful surprising delight", "top_k": None}
    raw = client.post("/v1/classify", json={**body, "function_to_apply": "none"}).json()
    logits = np.array([next(s["score"] for s in raw if s["label"] == l) for l in TOPIC_LABELS])
    for function in ("softmax", "sigmoid"):
        scores = client.post("/v1/classify", json={**body, "function_to_apply": function}).json()
        expected = apply_function(logits, function)
        got = [next(s["score"] for s in scores if s["label"] == l) for l in TOPIC_LABELS]
        assert np.allclose(got, expected, atol=1e-6)


def test_a_text_gets_the_same_scores_alone_and_in_a_padded_batch(client):
    alone = client.post("/v1/sentiment", json={"inputs": "a dull film", "top_k": None,
                                               "function_to_apply": "none"}).json()
    mixed = client.post("/v1/sentiment", json={
        "inputs": ["the acting is terrible and the story is bad , truly bad", "a dull film"],
        "top_k": None, "function_to_apply": "none"}).json()[1]
    assert {s["label"]: s["score"] for s in alone} == pytest.approx(
        {s["label"]: s["score"] for s in mixed}, abs=1e-5)


def test_too_long_input_is_refused_or_truncated(client):
    long_text = " ".join(["great"] * 50)  # 52 tokens with [CLS] and [SEP]; the limit is 32
    error = error_of(client.post("/v1/sentiment", json={"inputs": ["ok", long_text]}), 422)
    assert error["field"] == "inputs[1]" and "52 tokens" in error["message"] and "32" in error["message"]
    response = client.post("/v1/sentiment", json={"inputs": long_text, "truncation": True})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body, field",
    [
        ({"inputs": 5}, "inputs"),
        ({}, "inputs"),
        ({"inputs": "x", "top_k": 0}, "top_k"),
        ({"inputs": "x", "function_to_apply": "relu"}, "function_to_apply"),
        ({"inputs": "x", "colour": "red"}, "colour"),
        ({"inputs": []}, "inputs"),
        ({"inputs": ["x"] * 9}, "inputs"),
        ({"inputs": ["x", "y" * 201]}, "inputs[1]"),
    ],
)
def test_bad_input_is_422_naming_the_field(repository, body, field):
    with serving(repository, max_inputs=8, max_text_chars=200) as c:
        error = error_of(c.post("/v1/sentiment", json=body), 422)
    assert error["field"].startswith(field), error
    assert field.split("[")[0] in error["message"]


def test_malformed_json_is_422(client):
    response = client.post("/v1/sentiment", content=b"{not json", headers={"content-type": "application/json"})
    error_of(response, 422)


def test_body_too_large_is_413(repository):
    with serving(repository, max_body_bytes=200) as c:
        error = error_of(c.post("/v1/sentiment", json={"inputs": "x" * 500}), 413)
        assert "200" in error["message"]

        def chunks():  # no Content-Length: counted while streaming
            yield b'{"inputs": "'
            for _ in range(10):
                yield b"x" * 50
            yield b'"}'

        streamed = c.post("/v1/sentiment", content=chunks(), headers={"content-type": "application/json"})
        error_of(streamed, 413)


def test_unknown_model_is_404(client):
    error = error_of(client.post("/v1/classify", json={"model": "nope", "inputs": "x"}), 404)
    assert "nope" in error["message"] and "sentiment" in error["message"]
    error_of(client.get("/v1/models/nope"), 404)
    error_of(client.get("/no/such/route"), 404)


def test_classify_without_model_when_two_classifiers_is_422(client):
    error = error_of(client.post("/v1/classify", json={"inputs": "x"}), 422)
    assert error["field"] == "model"


def test_models_list_and_detail(client):
    listing = client.get("/v1/models").json()
    names = [m["name"] for m in listing["models"]]
    assert names == ["sentiment", "topic"] and listing["failed"] == []
    sentiment = client.get("/v1/models/sentiment").json()
    assert sentiment["variant"] == "int8"  # auto on CPU prefers int8
    assert sentiment["provider"] == "CPUExecutionProvider"
    assert sentiment["labels"] == SENTIMENT_LABELS and sentiment["max_seq_len"] == 32
    assert set(sentiment["variants"]) == {"fp32", "int8"}
    assert client.get("/v1/models/topic").json()["variant"] == "fp32"


def test_variant_flag_and_not_recommended_variants(repository, tmp_path):
    with serving(repository, variant="fp32") as c:
        assert c.get("/v1/models/sentiment").json()["variant"] == "fp32"
    import shutil

    shutil.copytree(repository / "sentiment", tmp_path / "sentiment")
    manifest = json.loads((tmp_path / "sentiment" / "manifest.json").read_text())
    manifest["variants"]["int8"]["recommended"] = False
    (tmp_path / "sentiment" / "manifest.json").write_text(json.dumps(manifest))
    with serving(tmp_path) as c:
        assert c.get("/v1/models/sentiment").json()["variant"] == "fp32"


def test_health_and_readiness(repository):
    with serving(repository, ready=False, warmup_batches=50) as c:
        assert c.get("/healthz").json() == {"status": "ok", "models": {}}
        first = c.get("/readyz")
        early = c.post("/v1/sentiment", json={"inputs": "x"})
        if first.status_code == 503:  # still warming up (the usual case with 50 batches)
            assert error_of(first, 503)["type"] == "not_ready"
        if early.status_code == 503:
            assert error_of(early, 503)["type"] == "not_ready"
        from tests.service.conftest import wait_ready

        wait_ready(c)
        ready = c.get("/readyz").json()
        assert ready == {"status": "ready", "models": {"sentiment": "ready", "topic": "ready"}}


def test_api_key(repository):
    with serving(repository, api_key="s3cret") as c:
        error_of(c.post("/v1/sentiment", json={"inputs": "x"}), 401)
        error_of(c.get("/v1/models", headers={"Authorization": "Bearer wrong"}), 401)
        ok = c.post("/v1/sentiment", json={"inputs": "x"}, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert c.get("/healthz").status_code == 200  # operations stay open
        assert c.get("/metrics").status_code == 200


def test_deadline_is_504(repository):
    with serving(repository, request_timeout_s=0.001, max_wait_ms=50.0) as c:
        error = error_of(c.post("/v1/sentiment", json={"inputs": "a dull film"}), 504)
        assert error["type"] == "deadline_exceeded"
        assert 'reason="deadline"' in c.get("/metrics").text


def test_model_failure_is_a_clean_500_with_the_real_type(repository):
    with serving(repository) as c:
        runtime = c.app.state.service.models.runtimes["sentiment"]

        def explode(sequences):
            raise FloatingPointError("injected fault")

        c.app.state.service.batchers["sentiment"]._run_fn = explode
        error = error_of(c.post("/v1/sentiment", json={"inputs": ["a", "b"]}), 500)
        assert "FloatingPointError" in error["message"] and "injected" not in error["message"]
        c.app.state.service.batchers["sentiment"]._run_fn = runtime.run
        assert c.post("/v1/sentiment", json={"inputs": "a"}).status_code == 200
