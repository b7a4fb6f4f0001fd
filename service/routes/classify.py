"""POST /v1/classify and /v1/sentiment: validate, tokenize, submit to the model's batcher, await,
shape the answer like `pipeline("text-classification")`."""

from __future__ import annotations

import time
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.errors import InputTooLong, InvalidInput
from service.manifest import CLASSIFICATION
from service.routes.plumbing import INFERENCE_ERRORS, OFF_LOOP_CHARS, State, infer, off_loop, timing_headers
from service.runtime import ModelRuntime
from service.schemas import ClassifyRequest, ClassifyResponse
from service.state import ServiceState
from service.tasks import classification_scores

v1 = APIRouter(prefix="/v1")


def _texts(inputs: str | list[str], state: ServiceState) -> list[str]:
    texts = [inputs] if isinstance(inputs, str) else inputs
    limits = state.settings
    if not texts:
        raise InvalidInput("inputs: needs at least one text", field="inputs")
    if len(texts) > limits.max_inputs:
        raise InvalidInput(
            f"inputs: {len(texts)} texts, at most {limits.max_inputs} per request", field="inputs"
        )
    for i, text in enumerate(texts):
        if len(text) > limits.max_text_chars:
            field = "inputs" if isinstance(inputs, str) else f"inputs[{i}]"
            raise InvalidInput(
                f"{field}: {len(text)} characters, at most {limits.max_text_chars}", field=field
            )
    return texts


def _tokenize(runtime: ModelRuntime, texts: list[str], truncation: bool, state: ServiceState,
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


async def _classify(request: Request, state: ServiceState, name: str, body: ClassifyRequest
                    ) -> JSONResponse:
    started = time.monotonic()
    runtime, batcher = state.runtime(name, CLASSIFICATION)
    request.state.model = name  # only loaded models name a metrics label
    texts = _texts(body.inputs, state)
    single = isinstance(body.inputs, str)
    tokenize = partial(_tokenize, runtime, texts, body.truncation, state, single)
    long = sum(len(text) for text in texts) > OFF_LOOP_CHARS
    sequences = await off_loop(state, tokenize) if long else tokenize()
    results = await infer(request, state, batcher, sequences, started)
    labels = runtime.manifest.labels
    answers = [
        classification_scores(r.output, labels, body.top_k, body.function_to_apply) for r in results
    ]
    # Returned as a ready response (already in the documented shape): no second validation pass.
    return JSONResponse(answers[0] if single else answers, headers=timing_headers(results))


@v1.post("/classify", response_model=ClassifyResponse, responses=INFERENCE_ERRORS,
         summary="Classify texts with a text-classification model")
async def classify(body: ClassifyRequest, request: Request, state: State) -> JSONResponse:
    """Scores per input, best first, like `pipeline("text-classification")`."""
    name = body.model or state.default_model(CLASSIFICATION)
    return await _classify(request, state, name, body)


@v1.post("/sentiment", response_model=ClassifyResponse, responses=INFERENCE_ERRORS,
         summary="Sentiment of texts (positive / negative)")
async def sentiment(body: ClassifyRequest, request: Request, state: State) -> JSONResponse:
    """The same as /v1/classify, on the sentiment model unless `model` names another."""
    name = body.model or state.settings.sentiment_model
    return await _classify(request, state, name, body)
