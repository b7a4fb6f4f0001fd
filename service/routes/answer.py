"""POST /v1/qa: extractive question answering, like `pipeline("question-answering")`.

Flow: check the pairs against the limits, tokenize every pair once, cut it into windows
(`service.qa_windows`), submit all windows of the request to the model's batcher in one go (each
window is one batch item, so windows of concurrent requests share model calls under the usual
max-items / max-padded-tokens policy), then pick the best spans across each pair's windows
(`service.qa`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.batching import Batcher, ItemResult
from service.errors import InputTooLong, InvalidInput
from service.manifest import QUESTION_ANSWERING
from service.qa import best_answers, window_spans
from service.qa_windows import DEFAULT_DOC_STRIDE, PairTokens, Window, WindowError, split_pair
from service.routes.plumbing import INFERENCE_ERRORS, State, infer, off_loop, timing_headers
from service.runtime import ModelRuntime
from service.schemas import QARequest, QAResponse
from service.settings import Settings
from service.state import ServiceState

qa = APIRouter(prefix="/v1")


@dataclass(frozen=True)
class Pair:
    question: str
    context: str
    prefix: str = ""  # how the request names the pair's fields: prefix + "context" + suffix,
    suffix: str = ""  # e.g. "inputs[1].context" (/v1/qa) or "context[1]" (/v2)

    def field(self, name: str) -> str:
        return f"{self.prefix}{name}{self.suffix}"


@dataclass(frozen=True)
class Options:
    """The request's QA parameters, with the model's training values (manifest) as defaults."""

    top_k: int
    max_answer_len: int
    doc_stride: int | None  # None: default_stride capped at half a window's context
    default_stride: int
    max_question_len: int
    handle_impossible_answer: bool


FALLBACKS = {"max_answer_len": 15, "max_question_len": 64, "handle_impossible_answer": False}


def request_options(body: QARequest, runtime: ModelRuntime) -> Options:
    trained = runtime.manifest.qa

    def pick(name: str):
        given = getattr(body, name)
        if given is not None:
            return given
        return getattr(trained, name) if trained is not None else FALLBACKS[name]

    return Options(
        top_k=body.top_k, max_answer_len=pick("max_answer_len"), doc_stride=body.doc_stride,
        default_stride=trained.doc_stride if trained is not None else DEFAULT_DOC_STRIDE,
        max_question_len=pick("max_question_len"), handle_impossible_answer=pick("handle_impossible_answer"),
    )


def request_pairs(body: QARequest, settings: Settings) -> tuple[list[Pair], bool]:
    """The (question, context) pairs of a request, and whether it sent a single pair."""
    if body.inputs is None:
        for name in ("question", "context"):
            if getattr(body, name) is None:
                raise InvalidInput(f"{name}: required (or send inputs: [{{question, context}}])", field=name)
        pairs, single = [Pair(body.question, body.context, "")], True
    else:
        if body.question is not None or body.context is not None:
            raise InvalidInput("inputs: send either question and context, or inputs, not both", field="inputs")
        if not body.inputs or len(body.inputs) > settings.max_inputs:
            raise InvalidInput(
                f"inputs: {len(body.inputs)} pairs, from 1 to {settings.max_inputs} per request", field="inputs"
            )
        pairs = [Pair(p.question, p.context, f"inputs[{i}].") for i, p in enumerate(body.inputs)]
        single = False
    check_contexts(pairs, settings)
    return pairs, single


def check_contexts(pairs: list[Pair], settings: Settings) -> None:
    limit = settings.qa_max_context_chars
    for pair in pairs:
        if len(pair.context) > limit:
            field = pair.field("context")
            raise InvalidInput(f"{field}: {len(pair.context)} characters, at most {limit}", field=field)


def _too_long(state: ServiceState, model: str, field: str, message: str) -> InputTooLong:
    state.metrics.rejections.labels(model, "too_long").inc()
    return InputTooLong(f"{field}: {message}", field=field)


def pair_windows(runtime: ModelRuntime, pairs: list[Pair], options: Options, state: ServiceState,
                 whole: str) -> list[list[Window]]:
    """The windows of every pair; 422 when a question or the window count passes a limit."""
    started = time.perf_counter()
    encodings = runtime.encode_pairs([(p.question, p.context) for p in pairs])
    state.metrics.tokenization.labels(runtime.name).observe(time.perf_counter() - started)
    settings, name = state.settings, runtime.name
    windows = []
    for pair, encoding in zip(pairs, encodings):
        tokens = PairTokens.from_encoding(encoding)
        if tokens.question_tokens > settings.qa_max_question_tokens:
            raise _too_long(state, name, pair.field("question"),
                            f"{tokens.question_tokens} tokens, at most {settings.qa_max_question_tokens}")
        try:
            windows.append(split_pair(tokens, runtime.max_seq_len, options.max_question_len, options.doc_stride,
                                      options.default_stride))
        except WindowError as exc:
            field = exc.parameter if exc.parameter == "doc_stride" else pair.field(exc.parameter)
            raise InvalidInput(f"{field}: {exc}", field=field) from None
    count, limit = sum(len(w) for w in windows), min(settings.qa_max_windows, settings.queue_limit)
    if count > limit:
        raise _too_long(state, name, whole,
                        f"{count} windows of the model's {runtime.max_seq_len} tokens, at most {limit} "
                        "per request; send shorter contexts or a lower doc_stride")
    return windows


def decode_answers(pairs: list[Pair], windows: list[list[Window]], outputs: list[np.ndarray],
                   options: Options) -> list[list[dict]]:
    """Best answers per pair from the (2, length) start/end logits of each window, in order."""
    answers, row = [], 0
    for pair, own in zip(pairs, windows):
        spans = [
            window_spans(out[0], out[1], w.is_context, w.offsets, options.top_k, options.max_answer_len)
            for w, out in zip(own, outputs[row: row + len(own)])
        ]
        row += len(own)
        answers.append(best_answers(pair.context, spans, options.top_k, options.handle_impossible_answer))
    return answers


async def answer_pairs(request: Request, state: ServiceState, runtime: ModelRuntime, batcher: Batcher,
                       pairs: list[Pair], options: Options, whole: str, started: float
                       ) -> tuple[list[list[dict]], list[ItemResult]]:
    """Best answers per pair, and the batcher's results. Contexts run to 100,000 characters:
    tokenizing them, cutting windows and searching spans happen on the preprocessing threads."""
    windows = await off_loop(state, partial(pair_windows, runtime, pairs, options, state, whole))
    results = await infer(request, state, batcher, [w.ids for own in windows for w in own], started)
    outputs = [r.output for r in results]
    return await off_loop(state, partial(decode_answers, pairs, windows, outputs, options)), results


@qa.post("/qa", response_model=QAResponse, responses=INFERENCE_ERRORS, tags=["question answering"],
         summary="Answer questions with spans of their context")
async def question_answering(body: QARequest, request: Request, state: State) -> JSONResponse:
    """{answer, score, start, end} per question (a list of them, best first, when top_k > 1);
    one entry per pair when `inputs` is given. start/end are character offsets into the context."""
    started = time.monotonic()
    name = body.model or state.default_model(QUESTION_ANSWERING)
    runtime, batcher = state.runtime(name, QUESTION_ANSWERING)
    request.state.model = name  # only loaded models name a metrics label
    pairs, single = request_pairs(body, state.settings)
    options = request_options(body, runtime)
    answers, results = await answer_pairs(request, state, runtime, batcher, pairs, options,
                                          "context" if single else "inputs", started)
    shaped = [a[0] if body.top_k == 1 else a for a in answers]
    return JSONResponse(shaped[0] if single else shaped, headers=timing_headers(results))
