"""text-embeddings-inference's routes on the tiny models, field by field against TEI's shapes
(router/src/http/types.rs and lib.rs): per model under /models/{name}/ and at the root for the
default model, the same vectors and scores as /v1 (one batcher), TEI's timing headers, and TEI's
error body and statuses for bad input, never a 5xx."""

from __future__ import annotations

import numpy as np
import pytest

from tests.service.conftest import serving
from tests.service.model_folders import EMBEDDING_DIM, SENTIMENT_LABELS

TIMING = ("x-compute-time", "x-compute-characters", "x-compute-tokens", "x-total-time", "x-tokenization-time",
          "x-queue-time", "x-inference-time")
TEXTS = ["A man is playing a guitar.", "Someone plays an instrument.", "the cat sits on the mat"]


@pytest.fixture(scope="module")
def client(embedding_repository):
    with serving(embedding_repository, max_inputs=8, max_text_chars=300, default_model="embed") as c:
        yield c


def test_embed_answers_one_unit_vector_per_text_the_same_as_v1(client):
    one = client.post("/models/embed/embed", json={"inputs": TEXTS[0]})
    many = client.post("/models/embed/embed", json={"inputs": TEXTS})
    assert one.status_code == many.status_code == 200
    assert len(one.json()) == 1 and len(one.json()[0]) == EMBEDDING_DIM  # TEI: [[...]] for one text too
    vectors = np.array(many.json(), dtype=np.float32)
    assert vectors.shape == (3, EMBEDDING_DIM) and all(isinstance(x, float) for x in many.json()[0])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    v1 = client.post("/v1/embeddings", json={"model": "embed", "input": TEXTS}).json()
    np.testing.assert_allclose(vectors, [d["embedding"] for d in v1["data"]], atol=1e-6)
    np.testing.assert_allclose(vectors[0], one.json()[0], atol=1e-5)
    assert client.post("/embed", json={"inputs": TEXTS}).json() == many.json()  # the default model at the root
    for name in TIMING:
        assert int(many.headers[name]) >= 0
    assert int(many.headers["x-compute-characters"]) == sum(map(len, TEXTS))
    assert int(many.headers["x-compute-tokens"]) > 3 * 2 and many.headers["x-compute-type"] == "cpu"


def test_embed_truncates_at_either_end_only_when_asked(client):
    long = "the cat sits on the mat " * 4 + "a man is playing a guitar " * 4
    refused = client.post("/models/embed/embed", json={"inputs": long})
    assert refused.status_code == 413 and refused.json()["error_type"] == "Validation"
    assert "truncate=true" in refused.json()["error"]
    right = client.post("/models/embed/embed", json={"inputs": long, "truncate": True}).json()[0]
    left = client.post("/models/embed/embed", json={"inputs": long, "truncate": True,
                                                    "truncation_direction": "Left"}).json()[0]
    lower = client.post("/models/embed/embed", json={"inputs": long, "truncate": True,
                                                     "truncation_direction": "left"}).json()[0]
    assert left == lower and not np.allclose(left, right)


def test_similarity_is_the_cosine_of_the_embeddings(client):
    body = {"inputs": {"source_sentence": TEXTS[0], "sentences": TEXTS}}
    scores = client.post("/models/embed/similarity", json=body)
    assert scores.status_code == 200 and len(scores.json()) == 3
    vectors = np.array(client.post("/embed", json={"inputs": TEXTS}).json())
    np.testing.assert_allclose(scores.json(), vectors @ vectors[0], atol=1e-5)
    assert scores.json()[0] == pytest.approx(1.0, abs=1e-5)
    with_parameters = client.post("/models/embed/similarity", json=body | {"parameters": {"truncate": True}})
    np.testing.assert_allclose(with_parameters.json(), scores.json(), atol=1e-6)


def test_predict_answers_every_label_best_first_as_tei(client):
    single = client.post("/models/sentiment/predict", json={"inputs": "a gorgeous, witty film"})
    assert single.status_code == 200
    labels = single.json()
    assert [set(p) for p in labels] == [{"score", "label"}] * 2
    assert {p["label"] for p in labels} == set(SENTIMENT_LABELS)
    assert labels[0]["score"] >= labels[1]["score"] and sum(p["score"] for p in labels) == pytest.approx(1, abs=1e-5)
    batch = client.post("/models/sentiment/predict", json={"inputs": [["a gorgeous, witty film"], ["a dull mess"]]})
    assert len(batch.json()) == 2 and batch.json()[0] == labels
    as_list = client.post("/models/sentiment/predict", json={"inputs": ["a gorgeous, witty film"]})
    assert as_list.json() == labels  # TEI: ["text"] is the text itself
    raw = client.post("/models/sentiment/predict", json={"inputs": "a gorgeous, witty film", "raw_scores": True})
    v1 = client.post("/v1/classify", json={"model": "sentiment", "inputs": "a gorgeous, witty film",
                                           "top_k": None, "function_to_apply": "none"}).json()
    assert [p["label"] for p in raw.json()] == [p["label"] for p in v1]
    np.testing.assert_allclose([p["score"] for p in raw.json()], [p["score"] for p in v1], atol=1e-6)
    for name in TIMING:
        assert name in single.headers


def test_tokenize_and_decode(client):
    text = "the cat, the mat"
    tokens = client.post("/models/embed/tokenize", json={"inputs": text})
    assert tokens.status_code == 200 and len(tokens.json()) == 1
    row = tokens.json()[0]
    assert all(set(t) == {"id", "text", "special", "start", "stop"} for t in row)
    assert row[0]["special"] and row[0]["start"] is None and row[-1]["special"]
    assert all(text[t["start"]:t["stop"]] == t["text"] for t in row if not t["special"])
    bare = client.post("/models/embed/tokenize", json={"inputs": [text, "a"], "add_special_tokens": False}).json()
    assert len(bare) == 2 and bare[0] == row[1:-1]
    ids = [t["id"] for t in row]
    decoded = client.post("/models/embed/decode", json={"ids": ids})
    assert decoded.status_code == 200 and len(decoded.json()) == 1
    assert decoded.json()[0].replace(" ", "") == text.replace(" ", "")
    kept = client.post("/models/embed/decode", json={"ids": [ids, ids[1:2]], "skip_special_tokens": False}).json()
    assert len(kept) == 2 and kept[0] != decoded.json()[0]


def test_info_has_teis_fields(client):
    embed = client.get("/models/embed/info").json()
    assert embed["model_type"] == {"embedding": {"pooling": "mean"}} and embed["model_id"] == "embed"
    assert embed["max_input_length"] == 32 and embed["max_client_batch_size"] == 8
    assert {"model_dtype", "max_concurrent_requests", "max_batch_tokens", "max_batch_requests", "auto_truncate",
            "tokenization_workers", "version", "model_sha", "sha", "docker_label"} <= set(embed)
    sentiment = client.get("/models/sentiment/info").json()
    assert sentiment["model_type"] == {"classifier": {"id2label": {"0": "negative", "1": "positive"},
                                                      "label2id": {"negative": 0, "positive": 1}}}
    assert client.get("/info").json() == embed
    assert client.get("/health").status_code == client.get("/models/sentiment/health").status_code == 200


def test_post_root_is_routed_by_the_default_models_type(client):
    assert client.post("/", json={"inputs": TEXTS}).json() == client.post("/embed", json={"inputs": TEXTS}).json()
    assert client.post("/invocations", json={"inputs": "a"}).status_code == 200
    wrong = client.post("/", json={"inputs": {"text": "a"}})  # neither /embed's nor /predict's inputs
    assert wrong.status_code == 422 and wrong.json()["error_type"] == "Validation"


@pytest.mark.parametrize(("path", "body", "status", "error_type"), [
    ("/models/embed/embed", {"inputs": []}, 400, "Empty"),
    ("/models/embed/embed", {"inputs": ["a"] * 9}, 413, "Validation"),
    ("/models/embed/embed", {"inputs": 3}, 422, "Validation"),
    ("/models/embed/embed", {"inputs": [[1, 2, 3]]}, 422, "Validation"),
    ("/models/embed/embed", {"inputs": "a", "truncate": "yes"}, 422, "Validation"),
    ("/models/embed/embed", {"inputs": "a", "normalize": False}, 422, "Validation"),
    ("/models/embed/embed", {"inputs": "a", "dimensions": 8}, 422, "Validation"),
    ("/models/embed/embed", {"inputs": "a", "prompt_name": "query"}, 422, "Validation"),
    ("/models/embed/embed", {"inputs": "a" * 301}, 422, "Validation"),
    ("/models/embed/embed", {}, 422, "Validation"),
    ("/models/absent/embed", {"inputs": "a"}, 404, "Validation"),
    ("/models/sentiment/embed", {"inputs": "a"}, 424, "Backend"),
    ("/models/embed/predict", {"inputs": "a"}, 424, "Backend"),
    ("/models/sentiment/predict", {"inputs": []}, 422, "Validation"),
    ("/models/sentiment/predict", {"inputs": [["a"]] * 9}, 413, "Validation"),
    ("/models/sentiment/predict", {"inputs": ["a", "b", "c"]}, 422, "Validation"),
    ("/models/sentiment/predict", {"inputs": ["a", "b"]}, 422, "Validation"),
    ("/models/sentiment/predict", {"inputs": ["a", "b"], "truncate": True, "truncation_direction": "Left"},
     422, "Validation"),
    ("/models/sentiment/rerank", {"query": "a", "texts": ["b"]}, 424, "Backend"),
    ("/models/sentiment/rerank", {"query": "a", "texts": []}, 400, "Empty"),
    ("/models/embed/embed_all", {"inputs": "a"}, 424, "Backend"),
    ("/models/embed/similarity", {"inputs": {"source_sentence": "a", "sentences": []}}, 400, "Empty"),
    ("/models/embed/similarity", {"inputs": {"source_sentence": "a", "sentences": ["b"] * 8}}, 413, "Validation"),
    ("/models/sentiment/similarity", {"inputs": {"source_sentence": "a", "sentences": ["b"]}}, 424, "Backend"),
    ("/models/embed/tokenize", {"inputs": []}, 400, "Empty"),
    ("/models/embed/decode", {"ids": [[1], [-1]]}, 422, "Validation"),
    ("/models/embed/decode", {"ids": [10 ** 6]}, 422, "Tokenizer"),
    ("/models/embed/decode", {"ids": [[1]] * 9}, 413, "Validation"),
])
def test_bad_input_gets_teis_error(client, path, body, status, error_type):
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "error_type"} and response.json()["error_type"] == error_type


def test_not_json_and_unknown_models_get_teis_body(client):
    not_json = client.post("/models/embed/embed", content=b"\xff", headers={"content-type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["error_type"] == "Validation"
    assert client.get("/models/absent/info").status_code == 404
    assert client.get("/models/absent/health").json()["error_type"] == "Validation"


def test_root_routes_need_a_default_model_when_several_are_loaded(embedding_repository):
    with serving(embedding_repository) as client:
        for path in ("/embed", "/"):
            response = client.post(path, json={"inputs": "a"})
            assert response.status_code == 404 and "--default-model" in response.json()["error"]
        assert client.post("/models/embed/embed", json={"inputs": "a"}).status_code == 200


def test_with_an_api_key_health_is_public_and_the_rest_is_not(embedding_repository):
    with serving(embedding_repository, api_key="k", default_model="embed") as client:
        assert client.get("/health").status_code == client.get("/models/sentiment/health").status_code == 200
        refused = client.post("/models/embed/embed", json={"inputs": "a"})
        assert refused.status_code == 401 and set(refused.json()) == {"error", "error_type"}
        allowed = client.post("/embed", json={"inputs": "a"}, headers={"Authorization": "Bearer k"})
        assert allowed.status_code == 200
