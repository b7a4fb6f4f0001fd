"""The OpenAPI document says what the server does, and the server refuses what it refuses."""

from __future__ import annotations

import pytest

from tests.service.conftest import serving
from tests.service.routes.test_api import error_of

PROTECTED = [("/v1/classify", "post"), ("/v1/sentiment", "post"), ("/v1/qa", "post"),
             ("/v1/models", "get"), ("/v1/models/{name}", "get")]


def test_no_security_is_declared_without_an_api_key(client):
    spec = client.get("/openapi.json").json()
    assert "securitySchemes" not in spec.get("components", {})
    for path, method in PROTECTED:
        operation = spec["paths"][path][method]
        assert "security" not in operation and "401" not in operation["responses"], path


def test_bearer_security_and_401_are_declared_with_an_api_key(repository):
    with serving(repository, api_key="k") as c:
        spec = c.get("/openapi.json", headers={"Authorization": "Bearer k"}).json()
    schemes = spec["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]
    for path, method in PROTECTED:
        operation = spec["paths"][path][method]
        assert operation["security"] and "401" in operation["responses"], path
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_the_document_refuses_empty_inputs_like_the_server(client):
    spec = client.get("/openapi.json").json()
    schema = spec["components"]["schemas"]["ClassifyRequest"]["properties"]["inputs"]
    (texts,) = [s for s in schema.get("oneOf", schema.get("anyOf", [])) if s.get("type") == "array"]
    assert texts["minItems"] == 1
    error_of(client.post("/v1/sentiment", json={"inputs": []}), 422)


@pytest.mark.parametrize("body, field", [
    ({"inputs": "x", "truncation": 0}, "truncation"),
    ({"inputs": "x", "top_k": "2"}, "top_k"),
    ({"inputs": "x", "top_k": True}, "top_k"),
])
def test_values_of_the_wrong_json_type_are_refused(client, body, field):
    assert error_of(client.post("/v1/sentiment", json=body), 422)["field"] == field


def test_a_body_that_is_not_utf8_is_the_documented_422(client):
    response = client.post("/v1/sentiment", content=b'{"inputs": "caf\xe9"}',
                           headers={"content-type": "application/json"})
    error = error_of(response, 422)
    assert error["field"] == "body" and "UTF-8" in error["message"]
    assert "422" in client.get("/openapi.json").json()["paths"]["/v1/sentiment"]["post"]["responses"]


def test_qa_without_a_qa_model_is_404(client):
    error = error_of(client.post("/v1/qa", json={"question": "who ?", "context": "x"}), 404)
    assert "question-answering" in error["message"]


def test_the_document_carries_the_servers_own_limits(repository):
    with serving(repository, max_inputs=8, max_text_chars=200, qa_max_context_chars=300) as c:
        schemas = c.get("/openapi.json").json()["components"]["schemas"]
        inputs = schemas["ClassifyRequest"]["properties"]["inputs"]["oneOf"]
        (text,) = [s for s in inputs if s.get("type") == "string"]
        (texts,) = [s for s in inputs if s.get("type") == "array"]
        (item,) = [s for s in texts["items"]["oneOf"] if s.get("type") == "string"]
        assert text["maxLength"] == item["maxLength"] == 200 and texts["maxItems"] == 8
        (pairs,) = [s for s in schemas["QARequest"]["properties"]["inputs"]["anyOf"] if s.get("type") == "array"]
        assert pairs["minItems"] == 1 and pairs["maxItems"] == 8
        assert schemas["QAInput"]["properties"]["context"]["maxLength"] == 300
        error_of(c.post("/v1/sentiment", json={"inputs": ["x"] * 9}), 422)
        error_of(c.post("/v1/sentiment", json={"inputs": "x" * 201}), 422)
