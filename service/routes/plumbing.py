"""What every route module shares: the service state, API-key auth, error documentation,
submitting token sequences to a model's batcher, and the `Call` a serving task runs a request with."""

from __future__ import annotations

import asyncio
import hmac
import time
from functools import partial
from typing import Annotated, Callable, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.batching.batcher import Batcher, ItemResult, gather_results
from service.errors import DeadlineExceeded, ServiceError, Unauthorized
from service.routes.schemas import ErrorBody
from service.runtime.model import ModelRuntime
from service.runtime.state import ServiceState
from service.tasks.base import Call

T = TypeVar("T")

# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in its thread
# pool, two thread hops per request that cost more than the work they do.
async def get_state(request: Request) -> ServiceState:
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]
bearer = HTTPBearer(auto_error=False, description="Needed when the server has an API key.")


async def require_api_key(
    state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    key = state.settings.api_key
    if key is None:
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise Unauthorized("missing or wrong API key (send 'Authorization: Bearer <key>')")


def error_responses(*codes: int, model: type = ErrorBody) -> dict:
    """OpenAPI `responses` entries for these error statuses, all with the error body `model`."""
    return {code: {"model": model} for code in codes}


INFERENCE_ERRORS = error_responses(404, 413, 422, 429, 500, 503, 504)


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
