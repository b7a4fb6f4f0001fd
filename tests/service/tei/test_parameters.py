"""Every /v1 route takes the HF Inference API's `parameters` object beside its root-level options:
the same names and meaning, the same checks, and one option given both ways with different values
refused with 422 naming `parameters.<option>`. Also through the short road past the framework."""

from __future__ import annotations

import pytest

from tests.service.conftest import serving


@pytest.fixture(scope="module")
def client(embedding_repository):
    with serving(embedding_repository) as c:
        yield c


@pytest.mark.parametrize(("path", "base", "options"), [
    ("/v1/classify", {"model": "sentiment", "inputs": "a gorgeous film"}, {"top_k": None, "function_to_apply": "none"}),
    ("/v1/sentiment", {"inputs": ["a gorgeous film", "a dull one"]}, {"top_k": 2, "truncation": True}),
    ("/v1/embeddings", {"model": "embed", "input": "a cat"}, {"encoding_format": "base64", "truncation": True}),
])
def test_parameters_mean_what_the_root_options_mean(client, path, base, options):
    root = client.post(path, json=base | options)
    nested = client.post(path, json=base | {"parameters": options})
    both = client.post(path, json=base | options | {"parameters": options})
    assert root.status_code == nested.status_code == both.status_code == 200
    assert nested.json() == root.json() == both.json()


def test_the_same_option_with_two_values_is_refused_naming_it(client):
    body = {"model": "sentiment", "inputs": "a film", "top_k": 1, "parameters": {"top_k": 2}}
    for path in ("/v1/classify", "/v1/sentiment"):
        response = client.post(path, json=body)
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "parameters.top_k"
    defaults_spelled_out = client.post("/v1/classify", json=body | {"parameters": {"top_k": 1}})
    assert defaults_spelled_out.status_code == 200


@pytest.mark.parametrize(("parameters", "field"), [
    ({"top_k": 0}, "parameters.top_k"),
    ({"top_k": "2"}, "parameters.top_k"),
    ({"function_to_apply": "tanh"}, "parameters.function_to_apply"),
    ({"topk": 2}, "parameters.topk"),
    ("top_k=2", "parameters"),
])
def test_bad_parameters_are_422s_naming_the_field(client, parameters, field):
    response = client.post("/v1/classify", json={"model": "sentiment", "inputs": "a", "parameters": parameters})
    assert response.status_code == 422 and response.json()["error"]["field"] == field


def test_question_answering_and_token_classification_take_parameters(qa_repository, token_repository):
    with serving(qa_repository, models=["qa"]) as client:
        pair = {"question": "Where is the museum?", "context": "The museum is in Zurich, near the lake."}
        root = client.post("/v1/qa", json=pair | {"top_k": 2, "max_answer_len": 4})
        nested = client.post("/v1/qa", json=pair | {"parameters": {"top_k": 2, "max_answer_len": 4}})
        assert root.status_code == 200 and nested.json() == root.json() and len(root.json()) == 2
    with serving(token_repository, models=["ner"]) as client:
        text = {"inputs": "Angela Merkel visited Paris"}
        root = client.post("/v1/token-classification", json=text | {"aggregation_strategy": "none"})
        nested = client.post("/v1/token-classification", json=text | {"parameters": {"aggregation_strategy": "none"}})
        assert root.status_code == 200 and nested.json() == root.json() and "entity" in root.json()[0]
