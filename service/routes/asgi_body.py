"""Reading a request body in ASGI middleware, and handing it on to the app as if unread."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

from service.errors import BodyTooLarge


async def read_body(receive: Receive) -> tuple[bytes, bool]:
    """The body, and whether it arrived whole (False: the client left first). Over the body
    limit (counted while streaming, `service.middleware`): BodyTooLarge."""
    chunks = []
    while True:
        try:
            message = await receive()
        except HTTPException as exc:
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
