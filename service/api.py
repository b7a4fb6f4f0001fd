"""HTTP routes: validate, tokenize, submit to the model's batcher, await, shape the response."""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.batching import Batcher, ItemResult, gather_results
from service.errors import (
    DeadlineExceeded, InputTooLong, ModelNotFound, NotReady, ServiceError, Unauthorized,
)
from service.manifest import REGRESSION
from service.runtime import ModelRuntime
from service.schemas import (
    ClassifyRequest, ClassifyResponse, ErrorBody, FailedModel, Health, ModelInfo, ModelList,
    VariantInfo,
)
from service.state import ServiceState
from service.text_items import Text, answer, texts_of

CLASSIFICATION = "text-classification"
CLASSIFY_TASKS = (CLASSIFICATION, REGRESSION)  # the tasks /v1/classify serves


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


def _errors(*codes: int) -> dict:
    return {code: {"model": ErrorBody} for code in codes}


INFERENCE_ERRORS = _errors(401, 404, 413, 422, 429, 500, 503, 504)
ops = APIRouter(tags=["operations"])
v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)])


class ClientGone(ServiceError):
    status, type = 499, "client_closed_request"


def _tokenize(runtime: ModelRuntime, texts: list[Text], truncation: bool, state: ServiceState,
              single: bool) -> list[list[int]]:
    started = time.perf_counter()
    encodings = runtime.encode(texts, truncation)
    state.metrics.tokenization.labels(runtime.name).observe(time.perf_counter() - started)
    for i, encoding in enumerate(encodings):
        if len(encoding.ids) > runtime.max_seq_len:
            state.metrics.rejections.labels(runtime.name, "too_long").inc()
            field = "inputs" if single else f"inputs[{i}]"
            raise InputTooLong(
                f"{field}: {len(encoding.ids)} tokens, model {runtime.name!r} accepts at most "
                f"{runtime.max_seq_len}; send truncation=true to cut it", field=field,
            )
    return [encoding.ids for encoding in encodings]


async def _wait_disconnect(request: Request) -> None:
    """Resolves when the client closes the connection (the body is already read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def infer(request: Request, state: ServiceState, batcher: Batcher, sequences: list[list[int]],
                 started: float) -> list[ItemResult]:
    name = batcher.name
    try:
        futures = batcher.submit(sequences)
    except ServiceError as exc:
        if exc.status == 429:
            state.metrics.rejections.labels(name, "queue_full").inc()
        raise
    remaining = started + state.settings.request_timeout_s - time.monotonic()
    disconnected = asyncio.ensure_future(_wait_disconnect(request))
    try:
        results = await gather_results(futures, remaining, disconnected)
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


async def _classify(request: Request, state: ServiceState, name: str, body: ClassifyRequest
                    ) -> JSONResponse:
    started = time.monotonic()
    request.state.model = name
    runtime, batcher = state.runtime(name, CLASSIFY_TASKS)
    limits = state.settings
    texts = texts_of(body.inputs, runtime.manifest, name, limits.max_inputs, limits.max_text_chars)
    single = not isinstance(body.inputs, list)
    sequences = _tokenize(runtime, texts, body.truncation, state, single)
    results = await infer(request, state, batcher, sequences, started)
    answers = [answer(runtime.manifest, r.output, body.top_k, body.function_to_apply) for r in results]
    # Returned as a ready response (already in the documented shape): no second validation pass.
    return JSONResponse(answers[0] if single else answers, headers=timing_headers(results))


def timing_headers(results: list[ItemResult]) -> dict[str, str]:
    """Where the request's time went; the slowest item of the request decides."""
    return {
        "X-Queue-Time-Ms": f"{max(r.queue_s for r in results) * 1000:.3f}",
        "X-Inference-Time-Ms": f"{max(r.inference_s for r in results) * 1000:.3f}",
        "X-Batch-Size": str(max(r.batch_size for r in results)),
    }


@v1.post("/classify", response_model=ClassifyResponse, responses=INFERENCE_ERRORS,
         summary="Classify texts with a text-classification model")
async def classify(body: ClassifyRequest, request: Request, state: State) -> JSONResponse:
    """Scores per input, best first, like `pipeline("text-classification")`."""
    name = body.model or state.default_model(CLASSIFY_TASKS)
    return await _classify(request, state, name, body)


@v1.post("/sentiment", response_model=ClassifyResponse, responses=INFERENCE_ERRORS,
         summary="Sentiment of texts (positive / negative)")
async def sentiment(body: ClassifyRequest, request: Request, state: State) -> JSONResponse:
    """The same as /v1/classify, on the sentiment model unless `model` names another."""
    name = body.model or state.settings.sentiment_model
    return await _classify(request, state, name, body)


def _model_info(runtime: ModelRuntime) -> ModelInfo:
    m = runtime.manifest
    variants = {
        key: VariantInfo(file=v.file, precision=v.precision, size_bytes=v.size_bytes,
                         recommended=v.recommended, validation=v.validation.model_dump())
        for key, v in m.variants.items()
    }
    return ModelInfo(
        name=runtime.name, task=m.task, labels=m.labels, max_seq_len=m.max_seq_len,
        variant=runtime.variant, provider=runtime.provider, variants=variants, teacher=m.teacher,
        student_layers=m.student_layers, metrics=m.metrics, created_at=m.created_at,
        qa=m.qa.model_dump() if m.qa is not None else None, pairs=m.pairs, regression=m.task == REGRESSION,
    )


@v1.get("/models", response_model=ModelList, responses=_errors(401), summary="Loaded models")
async def list_models(state: State) -> ModelList:
    runtimes = state.models.runtimes
    failed = [FailedModel(name=n, error=e) for n, e in sorted(state.models.failed.items())]
    return ModelList(models=[_model_info(runtimes[n]) for n in sorted(runtimes)], failed=failed)


@v1.get("/models/{name}", response_model=ModelInfo, responses=_errors(401, 404),
        summary="One loaded model")
async def get_model(name: str, request: Request, state: State) -> ModelInfo:
    runtime = state.models.runtimes.get(name)
    if runtime is None:
        raise ModelNotFound(f"unknown model {name!r} (loaded: {', '.join(sorted(state.models.runtimes))})")
    request.state.model = name
    return _model_info(runtime)


@ops.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@ops.get("/readyz", response_model=Health, responses=_errors(503), summary="Readiness")
async def readyz(state: State) -> Health:
    """200 once every model is loaded and warmed up; 503 before (and while shutting down)."""
    if not state.ready:
        raise NotReady(f"not ready: {state.warmed}")
    return Health(status="ready", models=dict(state.warmed))


@ops.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(state: State) -> Response:
    payload, content_type = state.metrics.exposition()
    return Response(payload, media_type=content_type)
