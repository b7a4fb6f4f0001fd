"""Texts of one request through a token-classification model: checked against the limits,
tokenized once and cut into windows, every window one batch item, each text's entities read back
from its windows' logits (on the preprocessing threads when the texts are long)."""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from modelfolder.manifest import TokenClassificationDefaults
from service.batching.batcher import ItemResult
from service.errors import InvalidInput
from service.tasks.base import Call
from service.tasks.text.items import FieldName
from service.tasks.text.run import OFF_LOOP_CHARS, check_texts
from service.tasks.token_classification.entities import Aggregation, entities
from service.tasks.token_classification.windows import EncodedText, StrideError, Window, split_text, text_logits


def text_windows(call: Call, texts: list[str], stride: int | None, whole: str
                 ) -> tuple[list[EncodedText], list[list[Window]]]:
    """Every text tokenized and cut into windows; 422 for a stride too long or too many windows."""
    runtime, settings = call.runtime, call.settings
    started = time.perf_counter()
    encoded = [EncodedText.from_encoding(e) for e in runtime.tokenizer.encode_batch(texts, add_special_tokens=True)]
    call.metrics.tokenization.labels(runtime.name).observe(time.perf_counter() - started)
    defaults = runtime.manifest.token_classification or TokenClassificationDefaults()
    try:
        windows = [split_text(e, runtime.max_seq_len, stride, defaults.doc_stride) for e in encoded]
    except StrideError as exc:
        raise InvalidInput(f"stride: {exc}", field="stride") from None
    count, limit = sum(map(len, windows)), min(settings.token_max_windows, settings.queue_limit)
    if count > limit:
        raise call.too_long(whole, f"{count} windows of the model's {runtime.max_seq_len} tokens, at most "
                            f"{limit} per request; send shorter texts or a lower stride")
    return encoded, windows


def decode(texts: list[str], encoded: list[EncodedText], windows: list[list[Window]], outputs: list[np.ndarray],
           labels: list[str], strategy: Aggregation, ignore_labels: list[str]) -> list[list[dict]]:
    """Each text's entities from the (length, tags) logits of its windows, in order."""
    found, row = [], 0
    for text, own_text, own in zip(texts, encoded, windows):
        tokens = text_logits(own_text, own, outputs[row: row + len(own)])
        row += len(own)
        found.append(entities(text, tokens, labels, strategy, ignore_labels))
    return found


async def tag_texts(call: Call, texts: list[str], strategy: Aggregation, ignore_labels: list[str],
                    stride: int | None, whole: str, field: FieldName) -> tuple[list[list[dict]], list[ItemResult]]:
    """The entities of every text, and the batcher's results."""
    check_texts(texts, call.settings, whole, field, call.settings.token_max_text_chars)
    long = sum(map(len, texts)) > OFF_LOOP_CHARS
    work = partial(text_windows, call, texts, stride, whole)
    encoded, windows = await call.off_loop(work) if long else work()
    results = await call.infer([w.ids for own in windows for w in own])
    finish = partial(decode, texts, encoded, windows, [r.output for r in results], call.runtime.manifest.labels,
                     strategy, ignore_labels)
    return (await call.off_loop(finish) if long else finish()), results
