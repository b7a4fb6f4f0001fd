"""HTTP/1.1 on asyncio streams, as much as a load generator needs: prepared POST requests, one
answer read at a time (Content-Length, chunked, or up to the end of the stream), kept-alive
connections, and the transport errors named the way the results count them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

CONNECT_ERROR = "ConnectError"  # no connection: refused, unreachable, or the connect timed out
READ_ERROR = "ReadError"  # the connection broke before the whole answer came
PROTOCOL_ERROR = "ProtocolError"  # an answer that is not HTTP/1.x as read here
TIMEOUT = "Timeout"  # no whole answer within the timeout


class ProtocolError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    netloc: str  # the Host header
    path: str  # the URL's path and query: where requests without a path of their own go

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url}: only http://HOST[:PORT]/PATH URLs")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, parts.port or 80, parts.netloc, path)


def request_bytes(target: Target, path: str | None, body: bytes, keepalive: bool = True) -> bytes:
    """One POST of a JSON `body` to `path` (default: the target's), ready to write."""
    close = "" if keepalive else "Connection: close\r\n"
    head = (f"POST {path or target.path} HTTP/1.1\r\nHost: {target.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{close}\r\n")
    return head.encode("latin-1") + body


class Answer(NamedTuple):
    status: int
    retry_after: str | None
    close: bool  # the server closes the connection after this answer


def _header(lowered: bytes, head: bytes, name: bytes) -> bytes | None:
    """The value of header `name` (lower case) in a response head, or None."""
    start = lowered.find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    return head[start:head.find(b"\r\n", start)].strip()


async def _skip_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        line = await reader.readuntil(b"\r\n")
        size = int(line.split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, up to the empty line
                pass
            return
        await reader.readexactly(size + 2)


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """Read one whole response; its body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        raise ProtocolError(head[:40])
    status = int(head[9:12])
    lowered = head.lower()
    length = _header(lowered, head, b"content-length")
    close = (_header(lowered, lowered, b"connection") or b"").find(b"close") >= 0
    retry = _header(lowered, head, b"retry-after")
    if (_header(lowered, lowered, b"transfer-encoding") or b"").find(b"chunked") >= 0:
        await _skip_chunked(reader)
    elif length is not None:
        if int(length):
            await reader.readexactly(int(length))
    elif not (status < 200 or status in (204, 304)):
        await reader.read()  # no length: the body ends with the connection
        close = True
    return Answer(status, retry.decode("latin-1") if retry is not None else None, close)


class Connection:
    __slots__ = ("reader", "writer", "deadline", "expired")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.deadline = 0.0  # time.monotonic() by which the answer in flight must have come
        self.expired = False

    def usable(self) -> bool:
        """False once the server closed it (an idle kept-alive connection can be)."""
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


async def connect(target: Target, timeout_s: float) -> tuple[Connection | None, str | None]:
    """A new connection, or None and the error's name."""
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(target.host, target.port)
    except (OSError, TimeoutError):
        return None, CONNECT_ERROR
    return Connection(reader, writer), None


class Watchdog:
    """The timeout of the answers in flight: every `period_s` it aborts the connections past their
    deadline. One periodic check costs far less CPU per request than a timer per request."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s, self.period_s = timeout_s, min(1.0, timeout_s / 4)
        self.busy: set[Connection] = set()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            now = time.monotonic()
            for connection in [c for c in self.busy if c.deadline < now]:
                connection.expired = True
                connection.writer.transport.abort()


async def exchange(connection: Connection, payload: bytes, watchdog: Watchdog
                   ) -> tuple[Connection | None, Answer | None, str | None]:
    """Send `payload` and read the answer: (the connection if it can be used again, the answer,
    or None and the error's name)."""
    connection.deadline = time.monotonic() + watchdog.timeout_s
    watchdog.busy.add(connection)
    try:
        connection.writer.write(payload)
        answer = await read_answer(connection.reader)
    except (ProtocolError, ValueError, asyncio.LimitOverrunError):
        error = TIMEOUT if connection.expired else PROTOCOL_ERROR
    except (OSError, asyncio.IncompleteReadError):
        error = TIMEOUT if connection.expired else READ_ERROR
    else:
        if answer.close:
            connection.close()
            return None, answer, None
        return connection, answer, None
    finally:
        watchdog.busy.discard(connection)
    connection.close()
    return None, None, error
