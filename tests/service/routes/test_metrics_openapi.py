"""Metric names and labels after real traffic; the OpenAPI document is valid."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from service.metrics import Metrics, status_class


def test_metric_names_labels_and_values_after_traffic(client):
    texts = ["a wonderful film", "a dull film", "great"]
    assert client.post("/v1/sentiment", json={"inputs": texts}).status_code == 200
    assert client.post("/v1/classify", json={"model": "topic", "inputs": "x"}).status_code == 200
    assert client.post("/v1/classify", json={"model": "nope", "inputs": "x"}).status_code == 404
    too_long = " ".join(["great"] * 40)
    assert client.post("/v1/sentiment", json={"inputs": too_long}).status_code == 422
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    for family, kind in [
        ("serve_request_duration_seconds", "histogram"), ("serve_requests_total", "counter"),
        ("serve_tokenization_duration_seconds", "histogram"), ("serve_queue_wait_seconds", "histogram"),
        ("serve_inference_duration_seconds", "histogram"), ("serve_batch_size_items", "histogram"),
        ("serve_batch_padded_tokens", "histogram"), ("serve_batch_padding_ratio", "histogram"),
        ("serve_queue_depth_items", "gauge"), ("serve_items_processed_total", "counter"),
        ("serve_tokens_processed_total", "counter"), ("serve_rejections_total", "counter"),
        ("serve_model_info", "gauge"), ("serve_ready", "gauge"),
    ]:
        assert f"# TYPE {family} {kind}" in text, family
    assert re.search(r'serve_requests_total\{model="sentiment",route="/v1/sentiment",status_class="2xx"\} [1-9]', text)
    assert re.search(r'serve_requests_total\{model="",route="/v1/classify",status_class="4xx"\} 1', text)
    assert "nope" not in text  # unknown model names do not become label values
    assert 'serve_rejections_total{model="sentiment",reason="too_long"} 1.0' in text
    assert 'serve_model_info{model="sentiment",provider="CPUExecutionProvider",task="text-classification",variant="int8"} 1.0' in text
    assert 'serve_ready 1.0' in text
    assert re.search(r'serve_items_processed_total\{model="sentiment"\} [3-9]', text)
    assert 'serve_inference_duration_seconds_bucket{le="0.0005",model="sentiment"}' in text
    assert 'serve_queue_depth_items{model="topic"} 0.0' in text


def test_unmatched_paths_share_one_route_label(client):
    client.get("/v1/models/sentiment")
    client.get("/random/path/1")
    client.get("/random/path/2")
    text = client.get("/metrics").text
    assert 'route="/v1/models/{name}"' in text
    assert re.search(r'serve_requests_total\{model="",route="unmatched",status_class="4xx"\} [2-9]', text)
    assert "/random/path" not in text


def test_each_app_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.items.labels("m").inc(3)
    assert second.registry.get_sample_value("serve_items_processed_total", {"model": "m"}) is None
    assert first.registry.get_sample_value("serve_items_processed_total", {"model": "m"}) == 3
    assert [status_class(s) for s in (200, 404, 503)] == ["2xx", "4xx", "5xx"]


def test_openapi_document_is_valid_and_lists_every_route(client):
    spec = client.get("/openapi.json").json()
    validate(spec)
    paths = set(spec["paths"])
    assert {"/v1/classify", "/v1/sentiment", "/v1/models", "/v1/models/{name}", "/healthz",
            "/readyz", "/metrics"} <= paths
    responses = spec["paths"]["/v1/sentiment"]["post"]["responses"]
    assert {"200", "404", "413", "422", "429", "503", "504"} <= set(responses)
    assert client.get("/docs").status_code == 200
