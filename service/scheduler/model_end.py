"""The model process's end of one HTTP worker's connection (the worker's end is
`service.scheduler.worker_end`): its rings, its items in flight."""

from __future__ import annotations

import asyncio
import logging
import socket
from functools import partial
from typing import Callable

from service.errors import ModelNotFound, ServiceError
from service.scheduler import frames, ring
from service.scheduler.connection import Link, control_message
from service.scheduler.protocol import ModelDescription, Welcome
from service.serving.state import ServiceState

log = logging.getLogger("service")


def failure_fields(exc: BaseException) -> tuple[int, str, str, dict]:
    """(status, type, message, headers) of an item's error, to rebuild it in the worker."""
    if isinstance(exc, ServiceError):
        return exc.status, exc.type, exc.message, dict(exc.headers)
    return 0, type(exc).__name__, str(exc), {}


class WorkerPort:
    """Submits a worker's items to the batchers and sends their results back."""

    def __init__(self, sock: socket.socket, state: ServiceState, descriptions: dict[str, ModelDescription],
                 ring_name: str, on_closed: Callable[["WorkerPort"], None]) -> None:
        size = state.settings.ipc_buffer_mb << 20
        self._requests, self._responses = ring.create(size, ring_name + "-in"), ring.create(size, ring_name + "-out")
        self._state, self._on_closed = state, on_closed
        self._models = list(descriptions)
        self._inflight: dict[int, asyncio.Future] = {}
        welcome = Welcome(requests=self._requests.name, responses=self._responses.name, models=self._models,
                          descriptions=descriptions, failed=dict(state.models.failed), ready=state.ready)
        sock.sendall(control_message(welcome))
        self.link = Link(sock, ring.RingWriter(self._responses), ring.RingReader(self._requests),
                         on_frames=self._frames, on_control=lambda _obj: None, on_closed=self._closed)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.link.start(loop)

    def _frames(self, encoded: list[bytes]) -> None:
        for frame in map(frames.decode, encoded):
            if isinstance(frame, frames.Submit):
                self._submit(frame)
            elif isinstance(frame, frames.Cancel):
                for item in frame.items:
                    future = self._inflight.pop(item, None)
                    if future is not None:
                        future.cancel()  # the batcher drops it before its batch runs

    def _submit(self, frame: frames.Submit) -> None:
        name = self._models[frame.model]
        batcher = self._state.batchers.get(name)
        try:
            if batcher is None:
                raise ModelNotFound(f"model {name!r} is no longer served (it failed its warm-up)")
            futures = batcher.submit(frame.sequences)
        except ServiceError as exc:
            if exc.status == 429:
                self._state.metrics.rejections.labels(name, "queue_full").inc()
            self._fail(frame.first, len(frame.sequences), exc)
            return
        for offset, future in enumerate(futures):
            item = frame.first + offset
            self._inflight[item] = future
            future.add_done_callback(partial(self._done, item))

    def _fail(self, first: int, count: int, exc: BaseException) -> None:
        self.link.put_later(frames.failure(first, count, *failure_fields(exc)))

    def _done(self, item: int, future: asyncio.Future) -> None:
        if self._inflight.pop(item, None) is None or future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            self._fail(item, 1, exc)
            return
        out = future.result()
        self.link.put_later(frames.result(item, out.output, out.queue_s, out.inference_s, out.batch_size))

    def _closed(self) -> None:
        """The worker is gone: drop its items, free its rings."""
        for future in self._inflight.values():
            future.cancel()
        self._inflight.clear()
        self._release()
        self._on_closed(self)

    def close(self) -> None:
        self.link.close()
        self._closed()

    def _release(self) -> None:  # the link, closed by now, has released its views of the rings
        for shm in (self._requests, self._responses):
            try:
                ring.destroy(shm)
            except BufferError:  # a view is still alive; the supervisor removes it at exit
                pass
