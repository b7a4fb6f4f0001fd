"""The short road past the framework for the busiest requests: a well-formed `POST` to an
endpoint marked `fast` (`/v1/classify`, `/v1/sentiment`, `/v1/embeddings`) or to text-embeddings-inference's
`/embed` and `/predict` (at the root and under /models/{name}/) answered without FastAPI's routing.

With a cheap model (or a GPU) the server's own work per request sets the throughput, and a large
share of it went to the framework around the route (a py-spy profile under load): matching the path against every route,
solving dependencies, parsing the JSON body and validating it in two steps, the exception
middleware. This ASGI middleware (inside the body limit and the request metrics) takes such a
request itself: it parses and validates the body in one step (`model_validate_json` of the
endpoint's own request model) and calls the routes' own function (`answer_request`), so the answer,
the headers, the errors of the model and the batcher, and the metrics are the route's. Everything
else goes on to the app unchanged -- another path or method, a body that is not JSON, fails
validation, or lacks the API key -- and the app answers it as before, from the same body bytes.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from pydantic import BaseModel

from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import ServiceError, error_response, internal_error_response
from service.middleware import read_body, replay
from service.routes import tei
from service.routes.v1 import answer_request
from service.serving.state import ServiceState
from service.tasks.registry import endpoints

JSON = b"application/json"
TEI_FAST = {"/embed": (tei.schemas.EmbedRequest, tei.embed), "/predict": (tei.schemas.PredictRequest, tei.predict)}
Answer = Callable[[Request, Any], Awaitable[Any]]  # (request, validated body) -> response


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


@dataclass(frozen=True)
class RouteLabel:
    """What the request metrics read of a matched route: its path template."""

    path: str


class FrameworkBypass:
    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app, self.state = app, state
        self._endpoints = {e.path: (e, tasks) for e, tasks in endpoints() if e.fast}
        self._labels = {path: RouteLabel(path) for path in self._endpoints}
        self._labels |= {template + route: RouteLabel(template + route) for route in TEI_FAST
                         for template in ("", "/models/{name}")}

    def _target(self, path: str) -> tuple[str, type[BaseModel], Answer] | None:
        """The route template, request model and answering function of a path the short road takes."""
        if path in self._endpoints:
            endpoint, tasks = self._endpoints[path]
            return path, endpoint.request, lambda request, body: answer_request(request, self.state, endpoint,
                                                                                  tasks, body)
        head, _, route = path.rpartition("/")
        fast = TEI_FAST.get("/" + route)
        if fast is None:
            return None
        name = head[len("/models/"):] if head.startswith("/models/") else None
        if head and (name is None or not name or "/" in name):
            return None
        model, handler = fast
        return ("/models/{name}/" if name else "/") + route, model, \
            lambda request, body: handler(body, request, self.state, name)

    def _authorized(self, scope: Scope) -> bool:
        key = self.state.settings.api_key
        if key is None:
            return True
        given = _header(scope, b"authorization") or b""
        return given[:7].lower() == b"bearer " and hmac.compare_digest(given[7:].strip(), key.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        content_type = _header(scope, b"content-type") if scope["type"] == "http" else None
        target = self._target(path) if scope["type"] == "http" and scope["method"] == "POST" else None
        if (target is None or content_type is None or content_type.split(b";")[0].strip().lower() != JSON
                or not self._authorized(scope)):
            await self.app(scope, receive, send)
            return
        try:
            body, whole = await read_body(receive)
        except ServiceError as exc:  # the body limit, counting a body sent without Content-Length
            await error_response(exc, path)(scope, receive, send)
            return
        if not whole:  # the client left before its body arrived: nobody to answer
            return
        template, model, answer = target
        try:
            request_body = model.model_validate_json(body)
        except ValidationError:
            # the app's own parsing, validation and error message; the bytes are handed on as read
            await self.app(scope, replay(body, receive), send)
            return
        scope["route"] = self._labels[template]
        request = Request(scope, receive)
        try:
            response = await answer(request, request_body)
        except ServiceError as exc:
            response = error_response(exc, path)
        except Exception as exc:  # as the app's handler of unexpected errors answers them
            response = internal_error_response(exc, "POST", path)
        await response(scope, receive, send)
