"""Texts (or text pairs) of one request through the model: checked against the limits, tokenized
(on the preprocessing threads when long), refused past `max_seq_len` unless truncated, run."""

from __future__ import annotations

import time
from functools import partial

from service.batching.batcher import ItemResult
from service.errors import InvalidInput
from service.settings import Settings
from service.tasks.base import Call
from service.tasks.text.items import FieldName, Text, characters

# Inputs with more characters than this are tokenized on the preprocessing threads; shorter ones
# on the event loop, where a thread hop would cost more than the tokenizer call itself.
OFF_LOOP_CHARS = 2_000


def check_texts(texts: list[Text], settings: Settings, whole: str, field: FieldName,
                max_chars: int | None = None) -> None:
    """422 naming the field when there are no texts, too many, or one is longer than `max_chars`
    (default: the setting max_text_chars)."""
    if not texts:
        raise InvalidInput(f"{whole}: needs at least one text", field=whole)
    if len(texts) > settings.max_inputs:
        raise InvalidInput(f"{whole}: {len(texts)} texts, at most {settings.max_inputs} per request", field=whole)
    limit = settings.max_text_chars if max_chars is None else max_chars
    for i, text in enumerate(texts):
        if characters(text) > limit:
            raise InvalidInput(f"{field(i)}: {characters(text)} characters, at most {limit}", field=field(i))


def tokenize_texts(call: Call, texts: list[Text], truncation: bool, field: FieldName) -> list[list[int]]:
    """Token ids of every text; 422 naming the field when one is longer than the model takes."""
    runtime = call.runtime
    started = time.perf_counter()
    encodings = runtime.encode(texts, truncation)
    call.metrics.tokenization.labels(runtime.name).observe(time.perf_counter() - started)
    for i, encoding in enumerate(encodings):
        if len(encoding.ids) > runtime.max_seq_len:
            raise call.too_long(field(i), f"{len(encoding.ids)} tokens, model {runtime.name!r} accepts at most "
                                f"{runtime.max_seq_len}; send truncation=true to cut it")
    return [encoding.ids for encoding in encodings]


async def text_sequences(call: Call, texts: list[Text], truncation: bool, whole: str, field: FieldName
                         ) -> list[list[int]]:
    """Check and tokenize texts (on the preprocessing threads when they are long)."""
    check_texts(texts, call.settings, whole, field)
    work = partial(tokenize_texts, call, texts, truncation, field)
    return await call.off_loop(work) if sum(map(characters, texts)) > OFF_LOOP_CHARS else work()


async def run_texts(call: Call, texts: list[Text], truncation: bool, whole: str, field: FieldName
                    ) -> list[ItemResult]:
    """Check, tokenize and run texts."""
    return await call.infer(await text_sequences(call, texts, truncation, whole, field))
