"""Pure ASGI middleware: request body limit (413) and per-request metrics; and, for the middleware
further in that reads a body itself (`service.routes.bypass`, `service.open_inference.binary`),
reading it within the limit and handing it on to the app as if unread."""

from __future__ import annotations

import time

from fastapi import HTTPException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import BodyTooLarge, error_response
from service.metrics import Metrics


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes`: by Content-Length up front, or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            too_large = BodyTooLarge(f"request body of {int(declared)} bytes exceeds {self.max_bytes}")
            await error_response(too_large, scope.get("path", ""))(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, f"request body exceeds {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)


class RequestMetricsMiddleware:
    """Count and time every HTTP request by model, route template and status class.

    The route handler names the model in `request.state.model`; the route template comes from
    the router (`scope["route"]`), so paths with parameters keep cardinality low.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            model = str(scope.get("state", {}).get("model", ""))
            self.metrics.observe_request(model, route, status, time.perf_counter() - started)


async def read_body(receive: Receive) -> tuple[bytes, bool]:
    """The body, and whether it arrived whole (False: the client left first). Over the body
    limit (counted while streaming by `BodyLimitMiddleware`): BodyTooLarge."""
    chunks = []
    while True:
        try:
            message = await receive()
        except StarletteHTTPException as exc:
            raise BodyTooLarge(str(exc.detail)) from None
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app `body` first, then the connection's own messages (the
    disconnect a route may wait for)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
