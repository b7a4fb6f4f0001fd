"""Running one request's work on its model: the token sequences submitted to the model's batcher
and awaited within the request's deadline (429 queue full, 504 deadline, 499 the client went away),
CPU-heavy work on the preprocessing threads, and the `Call` that hands both to a serving task."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Callable, TypeVar

from fastapi import Request

from service.batching.batcher import Batcher, ItemResult, gather_results
from service.errors import DeadlineExceeded, ServiceError
from service.runtime.model import ModelRuntime
from service.serving.state import ServiceState
from service.tasks.base import Call

T = TypeVar("T")

WATCH_AFTER_S = 0.05  # a request waits this long before its connection is watched for a disconnect


class ClientGone(ServiceError):
    status, type = 499, "client_closed_request"


async def _wait_disconnect(request: Request) -> None:
    """Resolves when the client closes the connection (the body is already read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def infer(request: Request, state: ServiceState, batcher: Batcher, sequences: list[list[int]],
                started: float) -> list[ItemResult]:
    """Submit every sequence of one request, await all their outputs (in order) or fail with 429
    (queue full), 504 (deadline) or 499 (the client went away)."""
    name = batcher.name
    try:
        futures = batcher.submit(sequences)
    except ServiceError as exc:
        if exc.status == 429:
            state.metrics.rejections.labels(name, "queue_full").inc()
        raise
    deadline = started + state.settings.request_timeout_s
    # Most answers come within a few milliseconds: they need no watcher of the connection (a task
    # per request). Past WATCH_AFTER_S, a client that goes away gets its items dropped unrun.
    quick = min(deadline - time.monotonic(), WATCH_AFTER_S)
    results = await gather_results(futures, quick, cancel_on_timeout=False)
    if results is not None:
        return results
    disconnected = asyncio.ensure_future(_wait_disconnect(request))
    try:
        results = await gather_results(futures, deadline - time.monotonic(), disconnected)
    finally:
        disconnected.cancel()
    if results is not None:
        return results
    if disconnected.done() and not disconnected.cancelled():
        raise ClientGone("the client closed the connection")
    state.metrics.rejections.labels(name, "deadline").inc()
    raise DeadlineExceeded(
        f"no answer within the request deadline of {state.settings.request_timeout_s} s"
    )


def timing_headers(results: list[ItemResult]) -> dict[str, str]:
    """Where the request's time went; the slowest item of the request decides."""
    return {
        "X-Queue-Time-Ms": f"{max(r.queue_s for r in results) * 1000:.3f}",
        "X-Inference-Time-Ms": f"{max(r.inference_s for r in results) * 1000:.3f}",
        "X-Batch-Size": str(max(r.batch_size for r in results)),
    }


async def off_loop(state: ServiceState, work: Callable[[], T]) -> T:
    """Run CPU-heavy request work (tokenizing long inputs, cutting windows, decoding spans) on
    the service's preprocessing threads, so that the event loop keeps answering other requests."""
    return await asyncio.get_running_loop().run_in_executor(state.preprocessing, work)


def task_call(request: Request, state: ServiceState, runtime: ModelRuntime, batcher: Batcher,
              started: float) -> Call:
    """What a serving task needs to answer one request on `runtime`."""

    async def run(sequences: list[list[int]]) -> list[ItemResult]:
        return await infer(request, state, batcher, sequences, started)

    return Call(runtime=runtime, settings=state.settings, metrics=state.metrics, infer=run,
                off_loop=partial(off_loop, state))
