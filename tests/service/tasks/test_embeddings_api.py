"""POST /v1/embeddings and /v2 against a real ONNX Runtime session: a random DistilBertModel
wrapped in masked mean pooling and L2 normalisation, exported with torch.onnx; the served vectors
are checked against the PyTorch wrapper itself."""

from __future__ import annotations

import numpy as np
import pytest
from tokenizers import Tokenizer

from modelfolder.variants import CheckLimits, check_variant
from service.tasks.embeddings.vectors import decode_vector
from service.tasks.registry import get_task
from tests.service.conftest import serving
from tests.service.model_folders import EMBEDDING_DIM, mean_pooled_encoder
from tests.service.routes.test_api import error_of

TEXTS = ["A man is playing a guitar.", "Someone plays an instrument.", "the cat sits on the mat",
         "a dog runs"]


@pytest.fixture(scope="module")
def embed_client(embedding_repository):
    with serving(embedding_repository, max_inputs=8, max_text_chars=400) as c:
        yield c


def embed(client, inputs, status: int = 200, **options):
    response = client.post("/v1/embeddings", json={"model": "embed", "input": inputs, **options})
    assert response.status_code == status, response.text
    return response.json()


def vectors(answer: dict) -> np.ndarray:
    return np.array([d["embedding"] for d in answer["data"]], dtype=np.float32)


def reference(folder, texts: list[str]) -> np.ndarray:
    """The PyTorch wrapper's embeddings of the texts, one at a time (no padding)."""
    import torch

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    model = mean_pooled_encoder(tokenizer.get_vocab_size(), seed=0)
    rows = []
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([tokenizer.encode(text).ids])
            rows.append(model(ids, torch.ones_like(ids))[0].numpy())
    return np.stack(rows)


def test_served_embeddings_are_the_pytorch_models_and_unit_length(embed_client, embedding_repository):
    answer = embed(embed_client, TEXTS)
    assert answer["object"] == "list" and answer["model"] == "embed"
    assert [(d["object"], d["index"]) for d in answer["data"]] == [("embedding", i) for i in range(len(TEXTS))]
    got = vectors(answer)
    assert got.shape == (len(TEXTS), EMBEDDING_DIM)
    np.testing.assert_allclose(got, reference(embedding_repository / "embed", TEXTS), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(got[0], got[1])  # different texts, different vectors


def test_a_batch_of_mixed_lengths_gives_each_text_its_own_vector(embed_client):
    texts = ["a dog", "the cat sits on the mat and a man is playing a guitar", "someone", ""]
    together = vectors(embed(embed_client, texts))
    alone = np.concatenate([vectors(embed(embed_client, t)) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_base64_is_the_little_endian_float32_bytes_of_the_vector(embed_client):
    floats = vectors(embed(embed_client, TEXTS[:2]))
    encoded = embed(embed_client, TEXTS[:2], encoding_format="base64")
    assert all(isinstance(d["embedding"], str) for d in encoded["data"])
    decoded = np.stack([decode_vector(d["embedding"]) for d in encoded["data"]])
    assert decoded.dtype == np.dtype("<f4")
    np.testing.assert_array_equal(decoded, floats)


def test_usage_counts_the_tokens_the_model_read(embed_client, embedding_repository):
    tokenizer = Tokenizer.from_file(str(embedding_repository / "embed" / "tokenizer.json"))
    expected = sum(len(tokenizer.encode(t).ids) for t in TEXTS)  # [CLS] and [SEP] included
    assert embed(embed_client, TEXTS)["usage"] == {"prompt_tokens": expected, "total_tokens": expected}
    assert embed(embed_client, "")["usage"]["prompt_tokens"] == 2  # [CLS] [SEP]


def test_a_text_too_long_is_refused_unless_truncated(embed_client):
    long_text = "a man is playing a guitar " * 10  # 60 words: past max_seq_len 32
    error = error_of(embed_client.post("/v1/embeddings", json={"model": "embed", "input": ["a dog", long_text]}), 422)
    assert error["field"] == error["param"] == "input[1]" and "truncation" in error["message"]
    assert error["type"] == error["code"] == "input_too_long"
    cut = embed(embed_client, ["a dog", long_text], truncation=True)
    assert cut["usage"]["prompt_tokens"] == 4 + 32
    np.testing.assert_allclose(np.linalg.norm(vectors(cut), axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("body, field, words", [
    ({"input": [101, 2023, 102]}, "input", "token-id arrays"),
    ({"input": [[101, 102], [101, 2023, 102]]}, "input", "token-id arrays"),
    ({"input": []}, "input", "at least 1"),
    ({"input": ["a"] * 9}, "input", "at most 8"),
    ({"input": ["a", 3]}, "input[1]", "string"),
    ({"input": "x" * 401}, "input", "at most 400"),
    ({"input": "a", "dimensions": 16}, "dimensions", "32 dimensions"),
    ({"input": "a", "encoding_format": "int8"}, "encoding_format", "float"),
    ({"input": "a", "extra": 1}, "extra", "not permitted"),
])
def test_bad_requests_name_the_field_in_both_error_shapes(embed_client, body, field, words):
    error = error_of(embed_client.post("/v1/embeddings", json={"model": "embed", **body}), 422)
    assert error["field"] == error["param"] == field and words in error["message"], error
    assert error["code"] == error["type"]


def test_dimensions_equal_to_the_models_and_user_are_accepted(embed_client):
    answer = embed(embed_client, "a dog", dimensions=EMBEDDING_DIM, user="someone")
    assert len(answer["data"][0]["embedding"]) == EMBEDDING_DIM


def test_the_model_may_be_left_out_and_must_be_an_embedding_model(embed_client):
    default = embed_client.post("/v1/embeddings", json={"input": "a dog"})
    assert default.status_code == 200 and default.json()["model"] == "embed"
    error = error_of(embed_client.post("/v1/embeddings", json={"model": "sentiment", "input": "a"}), 422)
    assert error["field"] == error["param"] == "model"
    missing = error_of(embed_client.post("/v1/embeddings", json={"model": "absent", "input": "a"}), 404)
    assert missing["code"] == "model_not_found"


def test_other_routes_keep_the_service_error_body(embed_client):
    error = error_of(embed_client.post("/v1/classify", json={"model": "sentiment", "inputs": []}), 422)
    assert "param" not in error and "code" not in error


def test_the_model_listing_and_the_timing_headers(embed_client):
    info = embed_client.get("/v1/models/embed").json()
    assert (info["task"], info["endpoint"], info["form"]) == ("feature-extraction", "/v1/embeddings", "similarity")
    assert info["embedding"] == {"dimension": EMBEDDING_DIM, "pooling": "mean", "normalize": True}
    response = embed_client.post("/v1/embeddings", json={"input": TEXTS})
    assert int(response.headers["X-Batch-Size"]) >= 1 and "X-Inference-Time-Ms" in response.headers


def test_v2_metadata_and_inference_give_the_same_vectors(embed_client):
    metadata = embed_client.get("/v2/models/embed").json()
    assert metadata["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert metadata["outputs"] == [{"name": "embedding", "datatype": "FP32", "shape": [-1, EMBEDDING_DIM]}]
    body = {"inputs": [{"name": "text", "shape": [3], "datatype": "BYTES", "data": TEXTS[:3]}]}
    response = embed_client.post("/v2/models/embed/infer", json=body)
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    assert (output["name"], output["datatype"], output["shape"]) == ("embedding", "FP32", [3, EMBEDDING_DIM])
    got = np.array(output["data"], dtype=np.float32).reshape(3, EMBEDDING_DIM)
    np.testing.assert_allclose(got, vectors(embed(embed_client, TEXTS[:3])), atol=1e-6)


def test_v2_refuses_a_long_text_unless_truncated(embed_client):
    long_text = "a man is playing a guitar " * 10
    body = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [long_text]}]}
    refused = embed_client.post("/v2/models/embed/infer", json=body)
    assert refused.status_code == 422 and refused.json()["error"].startswith("text[0]:")
    body["parameters"] = {"truncation": True}
    assert embed_client.post("/v2/models/embed/infer", json=body).status_code == 200


def test_the_fp16_rule_is_a_cosine_of_at_least_0_999():
    rule = get_task("feature-extraction").agreement
    base = np.zeros(384)
    base[0] = 1.0
    near, far = base.copy(), base.copy()
    near[1], far[1] = 0.04, 0.05  # cosines 0.9992 and 0.9988
    assert rule.matches(near, base, 0.05) == (1, 1) and rule.matches(far, base, 0.05) == (0, 1)
    assert rule.matches(np.zeros(384), base, 0.05) == (0, 1)
    np.testing.assert_array_equal(rule.row(base, 3), base)  # the whole vector counts, whatever the length


def test_the_start_up_check_judges_embeddings_by_direction(embed_client):
    runtime = embed_client.app.state.service.models.runtimes["embed"]
    sequences = [[2, 5 + i, *[9] * (i % 20), 3] for i in range(100)]  # 100 inputs, the second token tells which
    rule = get_task("feature-extraction").agreement
    turned = np.eye(EMBEDDING_DIM, dtype=np.float32)[0] * 0.06  # moves one component 0.06

    def some_turned(count):
        def run(batch):
            out = runtime.run(batch).copy()
            for row, seq in enumerate(batch):
                if seq[1] - 5 < count:  # the first `count` inputs of the sample
                    out[row] = out[row] * 0.95 + turned
            return out
        return run

    passed = check_variant("fp16", runtime.run, runtime.run, sequences, rule, "CPU")
    assert (passed.status, passed.agreement, passed.max_abs_diff) == ("passed", 1.0, 0.0)
    turned_once = check_variant("fp16", some_turned(1), runtime.run, sequences, rule, "CPU", CheckLimits(0.1))
    assert turned_once.status == "passed" and turned_once.agreement == pytest.approx(0.99)
    turned_twice = check_variant("fp16", some_turned(2), runtime.run, sequences, rule, "CPU", CheckLimits(0.1))
    assert turned_twice.status == "failed" and "agreement 98.00%" in turned_twice.note
    far = check_variant("fp16", some_turned(1), runtime.run, sequences, rule, "CPU")
    assert far.status == "failed" and "> 0.05" in far.note


def test_the_openapi_document_carries_the_limits_and_both_error_shapes(embed_client):
    document = embed_client.get("/openapi.json").json()
    text, texts = document["components"]["schemas"]["EmbeddingsRequest"]["properties"]["input"]["oneOf"]
    assert (text["maxLength"], texts["maxItems"], texts["items"]["maxLength"]) == (400, 8, 400)
    error = document["components"]["schemas"]["ErrorDetail"]["properties"]
    assert {"status", "type", "message", "field", "param", "code"} <= set(error)
