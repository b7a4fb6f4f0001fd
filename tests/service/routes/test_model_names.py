"""A model name in a URL or a body is looked up among the loaded models, never joined to a path:
`..`, percent-encoded slashes and absolute paths reach nothing outside the repository, on every
route that takes a model name. Sent over a raw socket, so that no client tidies the path first."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from tests.service.live import live_server

SECRET = "outside-the-repository"


@pytest.fixture(scope="module")
def url(repository, tmp_path_factory):
    """A repository with `sentiment`; beside it, outside, a loadable model folder `outside` (the
    3-label topic model) holding a report that must never be served."""
    root = tmp_path_factory.mktemp("names")
    shutil.copytree(repository / "sentiment", root / "repository" / "sentiment")
    shutil.copytree(repository / "topic", root / "outside")
    (root / "outside" / "report.json").write_text(json.dumps({"note": SECRET}))
    with live_server(root / "repository") as base:
        yield base, root / "outside"


def raw_request(base: str, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    """One request with `path` exactly as given; (status, response bytes)."""
    host, port = base.removeprefix("http://").split(":")
    payload = json.dumps(body).encode() if body is not None else b""
    head = (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head.encode() + payload)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


IN_PATHS = ["..", "%2e%2e", "%2E%2E", "../outside", "..%2Foutside", "..%2foutside", "%2e%2e%2foutside",
            "..%5Coutside", "..%252Foutside", "sentiment%2F..%2F..%2Foutside", "%2F..%2Foutside", "...",
            "sentiment/../../outside"]
ROUTES = [("GET", "/v1/models/{}"), ("GET", "/v1/models/{}/card"), ("GET", "/v1/models/{}/files/report.json"),
          ("GET", "/v2/models/{}"), ("GET", "/v2/models/{}/ready"), ("POST", "/v2/models/{}/infer")]
V2_BODY = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["a film"]}]}


def _refused(status: int, answer: bytes) -> bool:
    """Refused, and nothing of the outside folder in the answer (its report, its topic labels)."""
    return status in (404, 405, 422) and SECRET.encode() not in answer and b"business" not in answer


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_model_names_in_paths_reach_nothing_outside(url, method, route):
    base, _outside = url
    assert raw_request(base, method, route.format("sentiment"), V2_BODY if method == "POST" else None)[0] in (200, 404)
    for name in IN_PATHS:
        status, answer = raw_request(base, method, route.format(name), V2_BODY if method == "POST" else None)
        assert _refused(status, answer), (route, name, status, answer[:300])


@pytest.mark.parametrize(("route", "body"), [
    ("/v1/classify", {"inputs": "a film"}),
    ("/v1/sentiment", {"inputs": "a film"}),
    ("/v1/qa", {"question": "what?", "context": "a film"}),
    ("/v1/token-classification", {"inputs": "a film"}),
    ("/v1/embeddings", {"input": "a film"}),
])
def test_model_names_in_bodies_reach_nothing_outside(url, route, body):
    base, outside = url
    for name in ["..", "../outside", "..\\outside", "sentiment/../../outside", str(outside), "/outside",
                 "%2e%2e%2foutside"]:
        status, answer = raw_request(base, "POST", route, {**body, "model": name})
        assert _refused(status, answer), (route, name, status, answer[:300])
