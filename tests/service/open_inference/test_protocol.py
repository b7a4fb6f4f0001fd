"""The Open Inference Protocol (/v2) through a third-party client, tritonclient's HTTP client,
against a live server of tiny models: health, metadata, readiness, inference, errors."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.service.live import live_server

TEXTS = ["a wonderful film", "a dull film", "i hated every minute of it"]


@pytest.fixture(scope="module")
def url(qa_repository):
    with live_server(qa_repository, models=["qa", "sentiment"], max_inputs=8) as base:
        yield base


@pytest.fixture(scope="module")
def client(url):
    return triton.InferenceServerClient(url.removeprefix("http://"))


def texts_input(name: str, texts: list[str], binary: bool = False) -> triton.InferInput:
    tensor = triton.InferInput(name, [len(texts)], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=object), binary_data=binary)
    return tensor


def failure(call) -> InferenceServerException:
    with pytest.raises(InferenceServerException) as caught:
        call()
    return caught.value


def test_health_and_server_metadata(client):
    assert client.is_server_live() and client.is_server_ready()
    metadata = client.get_server_metadata()
    assert metadata["name"] == "distilserve" and isinstance(metadata["extensions"], list)


def test_model_metadata_and_readiness(client):
    classifier = client.get_model_metadata("sentiment")
    assert classifier["platform"] == "onnxruntime_onnx"
    assert classifier["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert [(o["name"], o["datatype"], o["shape"]) for o in classifier["outputs"]] == [
        ("label", "BYTES", [-1]), ("score", "FP32", [-1]), ("logits", "FP32", [-1, 2])]
    qa = client.get_model_metadata("qa")
    assert [i["name"] for i in qa["inputs"]] == ["question", "context"]
    assert [(o["name"], o["datatype"]) for o in qa["outputs"]] == [
        ("answer", "BYTES"), ("score", "FP32"), ("start", "INT64"), ("end", "INT64")]
    assert client.is_model_ready("sentiment") and client.is_model_ready("qa")
    assert not client.is_model_ready("nope")


@pytest.mark.parametrize("binary", [False, True])
def test_classifier_labels_agree_with_v1_classify(client, url, binary):
    result = client.infer("sentiment", [texts_input("text", TEXTS, binary)], request_id="req-1")
    labels, scores, logits = (result.as_numpy(n) for n in ("label", "score", "logits"))
    assert logits.shape == (3, 2) and labels.shape == scores.shape == (3,)
    v1 = httpx.post(f"{url}/v1/classify", json={"model": "sentiment", "inputs": TEXTS}).json()
    assert [str(label) for label in labels] == [answer[0]["label"] for answer in v1]
    assert np.allclose(scores, [answer[0]["score"] for answer in v1], atol=1e-6)
    assert result.get_response()["id"] == "req-1"


def test_requested_outputs_and_parameters(client):
    outputs = [triton.InferRequestedOutput("logits", binary_data=False), triton.InferRequestedOutput("label")]
    result = client.infer("sentiment", [texts_input("text", TEXTS[:2])], outputs=outputs,
                          parameters={"function_to_apply": "none"})
    response = result.get_response()
    assert [o["name"] for o in response["outputs"]] == ["logits", "label"]
    raw = client.infer("sentiment", [texts_input("text", TEXTS[:2])],
                       parameters={"function_to_apply": "none"}).as_numpy("score")
    assert np.allclose(raw, result.as_numpy("logits").max(axis=1), atol=1e-6)  # scores are the logits


def test_question_answering_answers_with_offsets(client):
    context = "The museum opens begin at nine end ."
    result = client.infer("qa", [texts_input("question", ["when ?"]), texts_input("context", [context], True)])
    (answer,), (start,), (end,) = (result.as_numpy(n) for n in ("answer", "start", "end"))
    assert str(answer) == "begin at nine end" and context[start:end] == str(answer)
    assert 0.0 < float(result.as_numpy("score")[0]) <= 1.0


@pytest.mark.parametrize("model, inputs, status, words", [
    ("nope", lambda: [texts_input("text", ["x"])], "404", "nope"),
    ("sentiment", lambda: [texts_input("question", ["x"])], "422", "question"),
    ("sentiment", lambda: [texts_input("text", ["great"] * 9)], "422", "at most 8"),
    ("sentiment", lambda: [texts_input("text", ["great " * 40])], "422", "text[0]"),
    ("qa", lambda: [texts_input("question", ["who ?"])], "422", "context"),
])
def test_errors_come_in_the_protocol_body(client, model, inputs, status, words):
    error = failure(lambda: client.infer(model, inputs()))
    assert error.status() == status and words in error.message()


def test_bad_text_is_a_422_naming_the_element(url, client):
    not_utf8 = triton.InferInput("text", [2], "BYTES")
    not_utf8.set_data_from_numpy(np.array([b"fine", b"\xff\xfe"], dtype=object), binary_data=True)
    error = failure(lambda: client.infer("sentiment", [not_utf8]))
    assert error.status() == "422" and "text[1]" in error.message()
    body = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["\ud800"]}]}
    response = httpx.post(f"{url}/v2/models/sentiment/infer", content=json.dumps(body).encode("ascii"))
    assert response.status_code == 422 and set(response.json()) == {"error"}
    assert "text[0]" in response.json()["error"]


def test_shape_and_datatype_are_checked(url):
    def infer(tensor: dict) -> httpx.Response:
        return httpx.post(f"{url}/v2/models/sentiment/infer", json={"inputs": [{"name": "text", **tensor}]})

    for tensor, field in [
        ({"shape": [3], "datatype": "BYTES", "data": ["a", "b"]}, "inputs[0].data"),
        ({"shape": [1, 2], "datatype": "BYTES", "data": [["a", "b"]]}, "inputs[0].shape"),
        ({"shape": [1], "datatype": "FP32", "data": [1.0]}, "inputs[0].datatype"),
        ({"shape": [1], "datatype": "BYTES", "data": [7]}, "text[0]"),
    ]:
        response = infer(tensor)
        assert response.status_code == 422 and response.json()["error"].startswith(field), response.text
    nested = infer({"shape": [2, 1], "datatype": "BYTES", "data": [["a"], ["b"]]})
    assert nested.status_code == 200 and nested.json()["outputs"][0]["shape"] == [2]


def test_api_key_guards_v2_but_not_its_health(qa_repository):
    with live_server(qa_repository, models=["sentiment"], api_key="k3y") as base:
        plain = triton.InferenceServerClient(base.removeprefix("http://"))
        assert plain.is_server_live() and plain.is_server_ready()
        error = failure(lambda: plain.infer("sentiment", [texts_input("text", ["x"])]))
        assert error.status() == "401"
        result = plain.infer("sentiment", [texts_input("text", ["x"])], headers={"Authorization": "Bearer k3y"})
        assert result.as_numpy("label").shape == (1,)


def test_v2_requests_are_counted_in_the_metrics(client, url):
    client.infer("sentiment", [texts_input("text", ["x"])])
    text = httpx.get(f"{url}/metrics").text
    assert 'serve_requests_total{model="sentiment",route="/v2/models/{name}/infer",status_class="2xx"}' in text


def test_the_body_limit_holds_for_v2_bodies(repository):
    from tests.service.conftest import serving

    with serving(repository, max_body_bytes=200) as c:
        declared = c.post("/v2/models/sentiment/infer", content=b'{"inputs": [' + b" " * 500 + b"]}")

        def chunks():  # no Content-Length: counted while streaming
            yield b'{"inputs": ['
            for _ in range(10):
                yield b" " * 50
            yield b"]}"

        streamed = c.post("/v2/models/sentiment/infer", content=chunks())
    for response in (declared, streamed):
        assert response.status_code == 413 and set(response.json()) == {"error"}, response.text
