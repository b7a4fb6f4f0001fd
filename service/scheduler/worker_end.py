"""The HTTP worker's end of its connection to the model process (the model process's end is
`service.scheduler.model_end`): a batcher stand-in per model that sends the items through shared
memory and resolves their futures with the rows that come back.

`RemoteBatcher` has the part of `service.batching.batcher.Batcher` the routes use (`name`,
`limits`, `depth`, `submit`, `close`), so the tasks and routes do not know which one they talk to.
When the model process goes away, every waiting item fails with 503 (Retry-After) at once and
`on_gone` is called (the service turns unready); nothing waits for an answer that cannot come.
With `reconnect`, the client then connects to the model process the supervisor starts again
(`service.scheduler.restarts`) and calls `on_ready` when it is ready; should that one serve other
models than the first (a folder changed on disk), `on_other_models` is called instead (by default
this worker stops, and uvicorn starts it again with the new models).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import socket
from typing import Callable, Sequence

from service.batching.batcher import ItemResult
from service.batching.policy import BatchLimits
from service.errors import QueueFull, ServiceError, ShuttingDown
from service.scheduler import frames, ring
from service.scheduler.connection import CONTROL, Link, read_message
from service.scheduler.protocol import Readiness, Welcome, same_models

log = logging.getLogger("service")

RETRY_AFTER = {"Retry-After": "1"}  # on the 503s while the model process is away
RECONNECT_EVERY_S = 0.1  # how often a worker tries the socket while the model process starts again


class ModelProcessGone(ServiceError):
    status, type = 503, "model_process_gone"


def rebuild_error(failure: frames.Failure) -> Exception:
    """The worker-side exception for an item's failure: a `ServiceError` with the status, type
    and headers the model process gave it, or for any other exception one of the same class name
    (the route answers 500 naming it, as in one process; the model process logged the details)."""
    if not failure.status:
        return type(failure.type, (RuntimeError,), {})(failure.message)
    error = ServiceError(failure.message, headers=failure.headers)
    error.status, error.type = failure.status, failure.type
    return error


class RemoteBatcher:
    def __init__(self, client: "ModelProcessClient", index: int, name: str, limits: BatchLimits,
                 queue_limit: int) -> None:
        self._client, self._index = client, index
        self.name, self.limits, self.queue_limit = name, limits, queue_limit
        self.depth = 0  # this worker's items in flight (the model process counts the whole queue)

    def submit(self, sequences: Sequence[Sequence[int]]) -> list[asyncio.Future]:
        if self.depth + len(sequences) > self.queue_limit:
            raise QueueFull(f"model {self.name!r} has {self.depth} items queued by this worker (limit "
                            f"{self.queue_limit}); retry later", headers={"Retry-After": "1"})
        return self._client.submit(self, self._index, sequences)

    async def close(self) -> None:
        return None


class ModelProcessClient:
    """Connects to the model process (blocking, before the event loop runs) and serves the
    worker's `RemoteBatcher`s once `start` has put the connection on the loop."""

    def __init__(self, socket_path: str, queue_limit: int, reconnect: bool = False) -> None:
        self._path, self._reconnect = socket_path, reconnect
        self._sock, self.welcome = _connect(socket_path)
        self._requests, self._responses = ring.attach(self.welcome.requests), ring.attach(self.welcome.responses)
        self.batchers = {
            name: RemoteBatcher(self, i, name, self.welcome.descriptions[name].limits, queue_limit)
            for i, name in enumerate(self.welcome.models)
        }
        self._next_item = 0  # the number of the next item this worker sends
        self._inflight: dict[int, tuple[asyncio.Future, RemoteBatcher]] = {}
        self._cancelled: list[int] = []
        self.ready = self.welcome.ready
        self.failed = dict(self.welcome.failed)  # the models the model process dropped
        self.gone = False
        self.on_ready: Callable[[dict[str, str]], None] = lambda _failed: None
        self.on_gone: Callable[[], None] = lambda: None
        self.on_other_models: Callable[[], None] = _stop_this_worker
        self.link: Link | None = None
        self._closing = False
        self._ready_failed = dict(self.failed) if self.ready else None  # `failed` when it first turned ready
        self._reconnecting: asyncio.Task | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.link = Link(self._sock, ring.RingWriter(self._requests), ring.RingReader(self._responses),
                         on_frames=self._frames, on_control=self._control, on_closed=self._closed)
        self.link.start(loop)

    def submit(self, batcher: RemoteBatcher, index: int, sequences: Sequence[Sequence[int]]) -> list[asyncio.Future]:
        if self._closing:
            raise ShuttingDown(f"model {batcher.name!r} is shutting down")
        if self.gone or self.link is None:
            raise ModelProcessGone("the model process is not running", headers=RETRY_AFTER)
        first = self._next_item
        try:
            self.link.put(frames.submit(index, first, sequences))
        except ring.RingFull:
            raise QueueFull(f"model {batcher.name!r}: the buffer to the model process is full; retry later",
                            headers={"Retry-After": "1"}) from None
        loop = asyncio.get_running_loop()
        futures = []
        for item in range(first, first + len(sequences)):
            future = loop.create_future()
            future.add_done_callback(lambda f, item=item: self._settled(item, f))
            self._inflight[item] = (future, batcher)
            futures.append(future)
        self._next_item += len(sequences)
        batcher.depth += len(sequences)
        return futures

    def _settled(self, item: int, future: asyncio.Future) -> None:
        entry = self._inflight.pop(item, None)
        if entry is None:
            return
        entry[1].depth -= 1
        if future.cancelled() and not self.gone and self.link is not None:
            self._cancelled.append(item)
            if len(self._cancelled) == 1:
                asyncio.get_running_loop().call_soon(self._send_cancels)

    def _send_cancels(self) -> None:
        items, self._cancelled = self._cancelled, []
        if items and self.link is not None:
            self.link.put_later(frames.cancel(items))

    def _frames(self, encoded: list[bytes]) -> None:
        for frame in map(frames.decode, encoded):
            if isinstance(frame, frames.Result):
                entry = self._inflight.get(frame.item)
                if entry is not None and not entry[0].done():
                    entry[0].set_result(ItemResult(frame.output, frame.queue_s, frame.inference_s, frame.batch_size))
            elif isinstance(frame, frames.Failure):
                error = rebuild_error(frame)
                for item in range(frame.first, frame.first + frame.count):
                    entry = self._inflight.get(item)
                    if entry is not None and not entry[0].done():
                        entry[0].set_exception(error)

    def _control(self, news: object) -> None:
        if isinstance(news, Readiness):
            if self._ready_failed is not None and news.failed != self._ready_failed:
                log.critical("HTTP worker %d: the model process started again and dropped other models (%s); "
                             "this worker starts again", os.getpid(), ", ".join(sorted(news.failed)) or "none")
                self.on_other_models()
                return
            if news.ready and self._ready_failed is None:
                self._ready_failed = dict(news.failed)
            self.ready, self.failed = news.ready, dict(news.failed)
            self.on_ready(self.failed)

    def _closed(self) -> None:
        self.gone, self.ready = True, False
        waiting, self._inflight, self._cancelled = list(self._inflight.values()), {}, []
        for batcher in self.batchers.values():
            batcher.depth = 0
        if not self._closing:
            log.critical("the model process is gone; %d waiting items fail with 503", len(waiting))
        error = ModelProcessGone("the model process stopped; the server is restarting it or stopping",
                                 headers=RETRY_AFTER)
        for future, _batcher in waiting:
            if not future.done():
                future.set_exception(error)
        self._release_rings()
        self.on_gone()
        if self._reconnect and not self._closing:
            self._reconnecting = asyncio.get_running_loop().create_task(self._connect_again())

    async def _connect_again(self) -> None:
        """Try the socket until the model process the supervisor started again answers."""
        loop = asyncio.get_running_loop()
        while not self._closing:
            await asyncio.sleep(RECONNECT_EVERY_S)
            try:
                sock, welcome = await loop.run_in_executor(None, _connect, self._path)
            except OSError:  # not listening yet (loading its models), or it died again
                continue
            if self._closing or not same_models(self.welcome, welcome):
                sock.close()
                if not self._closing:
                    log.critical("HTTP worker %d: the model process started again with other models; this "
                                 "worker starts again", os.getpid())
                    self.on_other_models()
                return
            try:
                rings = ring.attach(welcome.requests), ring.attach(welcome.responses)
            except OSError:  # it died right after its welcome, its rings removed
                sock.close()
                continue
            self._sock, self.welcome = sock, welcome
            self._requests, self._responses = rings
            self.gone = False
            self.start(loop)
            log.info("HTTP worker %d: connected to the model process again", os.getpid())
            if welcome.ready:
                self._control(Readiness(ready=True, failed=dict(welcome.failed)))
            return

    def _release_rings(self) -> None:
        for shm in (self._requests, self._responses):
            try:
                shm.close()
            except BufferError:  # a view is still alive; unmapped with the process
                pass

    def close(self) -> None:
        """Disconnect (after the worker's requests are answered)."""
        self._closing = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        if self.link is not None:
            self.link.close()  # releases its views of the rings
        else:
            self._sock.close()
        self._release_rings()


def _connect(socket_path: str) -> tuple[socket.socket, Welcome]:
    """Connect (blocking) and read the model process's welcome."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(30)  # it sends the welcome as it accepts
        sock.connect(socket_path)
        kind, payload = read_message(sock)
        if kind != CONTROL:
            raise ConnectionError("the model process did not start the connection with its welcome")
        sock.settimeout(None)
        return sock, pickle.loads(payload)
    except BaseException:
        sock.close()
        raise


def _stop_this_worker() -> None:
    """Stop gracefully; uvicorn's supervisor starts a new worker, which builds its models anew."""
    os.kill(os.getpid(), signal.SIGTERM)
