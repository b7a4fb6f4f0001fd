"""A long text cut into model windows, and each token's logits read back from one of them.

Each text is tokenized once, whole, by the model's own tokenizer (its template places [CLS] and
[SEP]). Its tokens are cut into parts of `max_seq_len - 2` tokens, neighbours sharing `stride`
tokens (`modelfolder.windows`, the rule question answering cuts contexts by); every window is
[CLS] + one part + [SEP]. A token that lies in several windows takes its logits from the one where
it is farthest from a window edge, where the model saw the most of its context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelfolder.windows import part_ranges, resolve_stride
from service.tasks.token_classification.entities import TextTokens


class StrideError(ValueError):
    """A `stride` that leaves no room for new tokens in a window."""


@dataclass(frozen=True)
class EncodedText:
    """One tokenized text as plain arrays, special tokens set apart."""

    ids: np.ndarray  # (n,) every token id, special tokens included
    content: np.ndarray  # positions of the text's own tokens, in order
    offsets: np.ndarray  # (n, 2) character offsets into the text
    word_ids: np.ndarray  # (n,) word index per token (-1 for special tokens)

    @classmethod
    def from_encoding(cls, encoding) -> EncodedText:
        """From a `tokenizers.Encoding` of a single text."""
        words = [-1 if w is None else w for w in encoding.word_ids]
        special = np.asarray(encoding.special_tokens_mask, dtype=bool)
        return cls(ids=np.asarray(encoding.ids, dtype=np.int64), content=np.flatnonzero(~special),
                   offsets=np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2),
                   word_ids=np.asarray(words, dtype=np.int64))


@dataclass(frozen=True)
class Window:
    ids: list[int]
    start: int  # the window holds content tokens [start, stop) of its text
    stop: int
    lead: int  # special tokens before the first content token


def split_text(text: EncodedText, max_seq_len: int, stride: int | None, default_stride: int) -> list[Window]:
    """The windows of one text, in order (one window, of its special tokens only, for an empty text)."""
    first = int(text.content[0]) if text.content.size else len(text.ids)
    last = int(text.content[-1]) if text.content.size else len(text.ids) - 1
    prefix, suffix = text.ids[:first], text.ids[last + 1:]
    room = max_seq_len - len(prefix) - len(suffix)
    chosen = resolve_stride(stride, room, default_stride)
    if chosen >= room:
        raise StrideError(f"{chosen} must be below the {room} tokens of a window "
                          f"({max_seq_len} - {len(prefix) + len(suffix)} special tokens)")
    content = text.ids[text.content]
    return [Window(ids=[*prefix.tolist(), *content[start:stop].tolist(), *suffix.tolist()],
                   start=start, stop=stop, lead=len(prefix))
            for start, stop in part_ranges(len(content), room, chosen)]


def text_logits(text: EncodedText, windows: list[Window], outputs: list[np.ndarray]) -> TextTokens:
    """Every content token's logits from its most central window, with its offsets and word."""
    count = len(text.content)
    tags = outputs[0].shape[-1]
    logits = np.zeros((count, tags), dtype=np.float32)
    margin = np.full(count, -1)
    for window, output in zip(windows, outputs):
        positions = np.arange(window.start, window.stop)
        central = np.minimum(positions - window.start, window.stop - 1 - positions)
        better = central > margin[positions]
        rows = window.lead + positions[better] - window.start
        logits[positions[better]] = output[rows]
        margin[positions[better]] = central[better]
    return TextTokens(offsets=text.offsets[text.content], word_ids=text.word_ids[text.content], logits=logits,
                      first_index=int(text.content[0]) if count else 1)
