"""Valid JSON that is not valid text: lone UTF-16 surrogates ("\\ud800") in every text field,
and in field names. Each must get a 4xx naming the field, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import serving
from tests.service.routes.test_api import error_of

LONE = "\ud800"  # valid in JSON ("\ud800"), not encodable as UTF-8


def post(client, path: str, body: dict):
    """Send `body` as ASCII JSON, lone surrogates as \\u escapes (as any JSON encoder may)."""
    return client.post(path, content=json.dumps(body).encode("ascii"),
                       headers={"content-type": "application/json"})


@pytest.fixture(scope="module")
def both_client(qa_repository):
    with serving(qa_repository, models=["qa", "sentiment"]) as c:
        yield c


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/v1/sentiment", {"inputs": LONE}, "inputs"),
        ("/v1/sentiment", {"inputs": ["fine", f"bad {LONE} text"]}, "inputs[1]"),
        ("/v1/classify", {"model": "sentiment", "inputs": [LONE]}, "inputs[0]"),
        ("/v1/sentiment", {"model": LONE, "inputs": "fine"}, "model"),
        ("/v1/qa", {"question": LONE, "context": "begin here end"}, "question"),
        ("/v1/qa", {"question": "where ?", "context": f"begin {LONE} end"}, "context"),
        ("/v1/qa", {"inputs": [{"question": "who ?", "context": "x"},
                               {"question": "who ?", "context": LONE}]}, "inputs[1].context"),
        ("/v1/qa", {"model": LONE, "question": "who ?", "context": "x"}, "model"),
    ],
)
def test_lone_surrogates_are_422_naming_the_field(both_client, path, body, field):
    error = error_of(post(both_client, path, body), 422)
    assert error["field"] == field, error
    assert field in error["message"] and "UTF-8" in error["message"]


def test_a_lone_surrogate_as_a_field_name_is_a_clean_422(both_client):
    response = post(both_client, "/v1/sentiment", {"inputs": "fine", LONE: 1})
    error = error_of(response, 422)
    assert error["field"] == "body" and "UTF-8" in error["message"]


def test_metrics_stay_readable_after_hostile_model_names(both_client):
    post(both_client, "/v1/sentiment", {"model": LONE, "inputs": "fine"})
    both_client.post("/v1/classify", json={"model": "no-such-model", "inputs": "fine"})
    response = both_client.get("/metrics")
    assert response.status_code == 200
    assert "no-such-model" not in response.text  # unknown names would grow the label set
