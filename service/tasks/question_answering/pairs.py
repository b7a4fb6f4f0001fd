"""Question answering's (question, context) pairs through the model.

Flow: check the pairs against the limits, tokenize every pair once, cut it into windows
(`service.tasks.question_answering.windows`), submit all windows of the request to the model's batcher in one go (each
window is one batch item, so windows of concurrent requests share model calls under the usual
max-items / max-padded-tokens policy), then pick the best spans across each pair's windows
(`service.tasks.question_answering.spans`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial

import numpy as np

from modelfolder.manifest import QADefaults
from service.batching.batcher import ItemResult
from service.errors import InvalidInput
from service.settings import Settings
from service.tasks.base import Call
from service.tasks.question_answering.spans import best_answers, window_spans
from service.tasks.question_answering.windows import DEFAULT_DOC_STRIDE, PairTokens, Window, WindowError, split_pair


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


def request_options(body, trained: QADefaults | None) -> Options:
    """The options of a request body (/v1) or parameters (/v2) that has every QA field."""

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


def request_pairs(body, settings: Settings) -> tuple[list[Pair], bool]:
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


def pair_windows(call: Call, pairs: list[Pair], options: Options, whole: str) -> list[list[Window]]:
    """The windows of every pair; 422 when a question or the window count passes a limit."""
    runtime, settings = call.runtime, call.settings
    started = time.perf_counter()
    encodings = runtime.encode_pairs([(p.question, p.context) for p in pairs])
    call.metrics.tokenization.labels(runtime.name).observe(time.perf_counter() - started)
    windows = []
    for pair, encoding in zip(pairs, encodings):
        tokens = PairTokens.from_encoding(encoding)
        if tokens.question_tokens > settings.qa_max_question_tokens:
            raise call.too_long(pair.field("question"),
                                f"{tokens.question_tokens} tokens, at most {settings.qa_max_question_tokens}")
        try:
            windows.append(split_pair(tokens, runtime.max_seq_len, options.max_question_len, options.doc_stride,
                                      options.default_stride))
        except WindowError as exc:
            field = exc.parameter if exc.parameter == "doc_stride" else pair.field(exc.parameter)
            raise InvalidInput(f"{field}: {exc}", field=field) from None
    count, limit = sum(len(w) for w in windows), min(settings.qa_max_windows, settings.queue_limit)
    if count > limit:
        raise call.too_long(whole, f"{count} windows of the model's {runtime.max_seq_len} tokens, at most {limit} "
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


async def answer_pairs(call: Call, pairs: list[Pair], options: Options, whole: str
                       ) -> tuple[list[list[dict]], list[ItemResult]]:
    """Best answers per pair, and the batcher's results. Contexts run to 100,000 characters:
    tokenizing them, cutting windows and searching spans happen on the preprocessing threads."""
    windows = await call.off_loop(partial(pair_windows, call, pairs, options, whole))
    results = await call.infer([w.ids for own in windows for w in own])
    outputs = [r.output for r in results]
    return await call.off_loop(partial(decode_answers, pairs, windows, outputs, options)), results
