"""The short road for well-formed classify requests: taken only when it may be, same answers."""

from __future__ import annotations

import asyncio
import json

from service.routes.framework_bypass import FrameworkBypass


class Recorder:
    """A stand-in app: records what reaches it (scope path, body bytes) and answers 299."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"app"})


def call(app, middleware_state, path: str, body: bytes, headers: dict[str, str], chunks: int = 1):
    """Run one request through FrameworkBypass(app); returns (status, body)."""
    scope = {"type": "http", "method": "POST", "path": path, "headers": [
        (k.lower().encode(), v.encode()) for k, v in headers.items()], "app": app.asgi_app, "query_string": b""}
    parts = [body[i * len(body) // chunks:(i + 1) * len(body) // chunks] for i in range(chunks)]
    messages = [{"type": "http.request", "body": p, "more_body": i < chunks - 1} for i, p in enumerate(parts)]
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    async def run():
        await FrameworkBypass(app.recorder, middleware_state)(scope, receive, send)

    asyncio.run_coroutine_threadsafe(run(), app.loop).result(timeout=10)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


class Target:
    def __init__(self, client) -> None:
        self.asgi_app = client.app
        self.recorder = Recorder()
        self.loop = client.portal.call(asyncio.get_running_loop)


JSON_HEADERS = {"content-type": "application/json"}


def test_a_well_formed_request_is_answered_as_the_route_answers_it(client):
    target = Target(client)
    state = client.app.state.service
    body = json.dumps({"inputs": ["a fine film", "dull"], "top_k": None}).encode()
    status, answer = call(target, state, "/v1/sentiment", body, JSON_HEADERS, chunks=3)
    assert status == 200 and target.recorder.bodies == []  # the app never saw it
    expected = client.post("/v1/sentiment", content=body, headers=JSON_HEADERS)
    assert json.loads(answer) == expected.json()


def test_everything_else_goes_to_the_app_with_the_same_bytes(client):
    target = Target(client)
    state = client.app.state.service
    cases = [
        ("/v1/sentiment", b'{"inputs": ["a", 3]}', JSON_HEADERS),  # fails validation
        ("/v1/sentiment", b'{"inputs": "a"', JSON_HEADERS),  # not JSON
        ("/v1/sentiment", b'{"inputs": "a"}', {"content-type": "text/plain"}),
        ("/v1/qa", b'{"question": "q", "context": "c"}', JSON_HEADERS),
    ]
    for path, body, headers in cases:
        status, _ = call(target, state, path, body, headers)
        assert status == 299 and target.recorder.bodies[-1] == body, (path, body)
    assert len(target.recorder.bodies) == len(cases)


def test_errors_of_the_model_keep_the_service_envelope(client):
    target = Target(client)
    status, answer = call(target, client.app.state.service, "/v1/classify",
                          b'{"model": "nope", "inputs": "a"}', JSON_HEADERS)
    assert status == 404 and target.recorder.bodies == []
    error = json.loads(answer)["error"]
    assert error["type"] == "model_not_found" and error["field"] == "model"
    assert client.post("/v1/classify", json={"model": "nope", "inputs": "a"}).json() == json.loads(answer)


def test_teis_predict_takes_the_short_road_with_its_own_answers_and_errors(client):
    """text-embeddings-inference's /predict (and /embed) under /models/{name}/: the route's answer,
    headers aside; its errors in TEI's body; other paths and odd names go to the app."""
    target = Target(client)
    state = client.app.state.service
    body = json.dumps({"inputs": [["a fine film"], ["dull"]]}).encode()
    status, answer = call(target, state, "/models/sentiment/predict", body, JSON_HEADERS)
    assert status == 200 and target.recorder.bodies == []
    assert json.loads(answer) == client.post("/models/sentiment/predict", content=body, headers=JSON_HEADERS).json()
    status, answer = call(target, state, "/models/nope/predict", b'{"inputs": "a"}', JSON_HEADERS)
    assert status == 404 and set(json.loads(answer)) == {"error", "error_type"}
    for path in ("/models/a/b/predict", "/models//predict", "/other/sentiment/predict", "/models/sentiment/tokenize"):
        status, _ = call(target, state, path, b'{"inputs": "a"}', JSON_HEADERS)
        assert status == 299, path
