"""POST /v1/classify and /v1/sentiment: validate, tokenize, submit to the model's batcher, await,
shape the answer like `pipeline("text-classification")`."""

from __future__ import annotations

import time
from functools import partial
from typing import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.batching import Batcher, ItemResult
from service.errors import InputTooLong, InvalidInput
from service.manifest import CLASSIFICATION, REGRESSION
from service.routes.plumbing import INFERENCE_ERRORS, OFF_LOOP_CHARS, State, infer, off_loop, timing_headers
from service.runtime import ModelRuntime
from service.schemas import ClassifyRequest, ClassifyResponse
from service.settings import Settings
from service.state import ServiceState
from service.text_items import Text, answer, characters, item_text

v1 = APIRouter(prefix="/v1")
CLASSIFY_TASKS = (CLASSIFICATION, REGRESSION)  # the tasks /v1/classify serves


FieldName = Callable[[int], str]  # text index -> how the request names it ("inputs[1]")


def check_texts(texts: list[Text], settings: Settings, whole: str, field: FieldName) -> None:
    """422 naming the field when there are no texts, too many, or one is too long."""
    if not texts:
        raise InvalidInput(f"{whole}: needs at least one text", field=whole)
    if len(texts) > settings.max_inputs:
        raise InvalidInput(f"{whole}: {len(texts)} texts, at most {settings.max_inputs} per request", field=whole)
    for i, text in enumerate(texts):
        if characters(text) > settings.max_text_chars:
            raise InvalidInput(
                f"{field(i)}: {characters(text)} characters, at most {settings.max_text_chars}", field=field(i)
            )


def tokenize_texts(runtime: ModelRuntime, texts: list[Text], truncation: bool, state: ServiceState,
                   field: FieldName) -> list[list[int]]:
    """Token ids of every text; 422 naming the field when one is longer than the model takes."""
    started = time.perf_counter()
    encodings = runtime.encode(texts, truncation)
    state.metrics.tokenization.labels(runtime.name).observe(time.perf_counter() - started)
    for i, encoding in enumerate(encodings):
        if len(encoding.ids) > runtime.max_seq_len:
            state.metrics.rejections.labels(runtime.name, "too_long").inc()
            raise InputTooLong(
                f"{field(i)}: {len(encoding.ids)} tokens, model {runtime.name!r} accepts at most "
                f"{runtime.max_seq_len}; send truncation=true to cut it", field=field(i),
            )
    return [encoding.ids for encoding in encodings]


async def run_texts(request: Request, state: ServiceState, runtime: ModelRuntime, batcher: Batcher,
                    texts: list[Text], truncation: bool, whole: str, field: FieldName, started: float
                    ) -> list[ItemResult]:
    """Check, tokenize (on the preprocessing threads when the texts are long) and run texts."""
    check_texts(texts, state.settings, whole, field)
    work = partial(tokenize_texts, runtime, texts, truncation, state, field)
    sequences = await off_loop(state, work) if sum(map(characters, texts)) > OFF_LOOP_CHARS else work()
    return await infer(request, state, batcher, sequences, started)


def classify_model(body: ClassifyRequest, state: ServiceState) -> str:
    return body.model or state.default_model(CLASSIFY_TASKS)


def sentiment_model(body: ClassifyRequest, state: ServiceState) -> str:
    return body.model or state.settings.sentiment_model


# path -> which model a request names (also read by service.fastpath)
MODEL_OF_ROUTE: dict[str, Callable[[ClassifyRequest, ServiceState], str]] = {
    "/v1/classify": classify_model, "/v1/sentiment": sentiment_model,
}


async def classify_request(request: Request, state: ServiceState, name: str, body: ClassifyRequest
                           ) -> JSONResponse:
    started = time.monotonic()
    runtime, batcher = state.runtime(name, CLASSIFY_TASKS)
    request.state.model = name  # only loaded models name a metrics label
    single = not isinstance(body.inputs, list)
    items = [body.inputs] if single else body.inputs
    field = (lambda i: "inputs") if single else (lambda i: f"inputs[{i}]")
    texts = [item_text(item, runtime.manifest.pairs, name, field(i)) for i, item in enumerate(items)]
    results = await run_texts(request, state, runtime, batcher, texts, body.truncation, "inputs", field, started)
    answers = [answer(runtime.manifest, r.output, body.top_k, body.function_to_apply) for r in results]
    # Returned as a ready response (already in the documented shape): no second validation pass.
    return JSONResponse(answers[0] if single else answers, headers=timing_headers(results))


@v1.post("/classify", response_model=ClassifyResponse, responses=INFERENCE_ERRORS,
         summary="Classify texts or text pairs (or score them with a regression model)")
async def classify(body: ClassifyRequest, request: Request, state: State) -> JSONResponse:
    """Scores per input, best first, like `pipeline("text-classification")`."""
    return await classify_request(request, state, classify_model(body, state), body)


@v1.post("/sentiment", response_model=ClassifyResponse, responses=INFERENCE_ERRORS,
         summary="Sentiment of texts (positive / negative)")
async def sentiment(body: ClassifyRequest, request: Request, state: State) -> JSONResponse:
    """The same as /v1/classify, on the sentiment model unless `model` names another."""
    return await classify_request(request, state, sentiment_model(body, state), body)
