"""A (question, context) pair cut into model windows: [CLS] question [SEP] context part [SEP].

Each pair is tokenized once, whole and untruncated, by the model's own tokenizer: its template
places the special tokens, and every token comes with its sequence id (question 0, context 1,
special None) and its character offsets into its own text. The windows are then cut here from
those arrays, by the rule (`modelfolder.windows`) the `tokenizers` library applies to `truncation="only_second"` overflow
with a stride (the rule the training windows of `distill` were made with): the context tokens are
split into parts of `room` tokens starting every `room - doc_stride` tokens, until a part reaches
the last context token; every window is the prefix (special tokens and the question, cut to
`max_question_len` tokens) + one part + the suffix (the closing special tokens).

Why our own windowing rather than the tokenizer's overflow: truncation settings live on the
tokenizer object shared by every request, while `doc_stride` and `max_question_len` change per
request; cutting index ranges is a pure function of arrays, testable without a tokenizer. A test
checks that the windows equal the library's own overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelfolder.windows import part_ranges, resolve_stride

DEFAULT_DOC_STRIDE = 128  # as the Hugging Face pipeline
QUESTION, CONTEXT, SPECIAL = 0, 1, -1


class WindowError(ValueError):
    """A request parameter (`question` or `doc_stride`) that leaves no valid window."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class PairTokens:
    """One tokenized (question, context) pair as plain arrays."""

    ids: np.ndarray  # (n,) token ids, special tokens included
    sequence_ids: np.ndarray  # (n,) QUESTION, CONTEXT or SPECIAL
    offsets: np.ndarray  # (n, 2) character offsets, each into its own text

    @classmethod
    def from_encoding(cls, encoding) -> PairTokens:
        """From a `tokenizers.Encoding` of a pair."""
        sequence_ids = [SPECIAL if s is None else s for s in encoding.sequence_ids]
        return cls(
            ids=np.asarray(encoding.ids, dtype=np.int64),
            sequence_ids=np.asarray(sequence_ids, dtype=np.int64),
            offsets=np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2),
        )

    @property
    def question_tokens(self) -> int:
        return int(np.count_nonzero(self.sequence_ids == QUESTION))


@dataclass(frozen=True)
class Window:
    """One model input: token ids and, per token, whether it is context and where it lies."""

    ids: list[int]
    offsets: np.ndarray  # (n, 2) character offsets into the context (meaningful where is_context)
    is_context: np.ndarray  # (n,) bool: a context token (not question, special token or padding)


def _prefix_and_suffix(tokens: PairTokens, max_question_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions before the context (question cut to max_question_len) and after it."""
    context = np.flatnonzero(tokens.sequence_ids == CONTEXT)
    n = len(tokens.ids)
    first, last = (int(context[0]), int(context[-1])) if context.size else (n, n - 1)
    head = np.arange(first)
    question = np.flatnonzero(tokens.sequence_ids[:first] == QUESTION)
    prefix = np.setdiff1d(head, question[max_question_len:], assume_unique=True)
    return prefix, np.arange(last + 1, n)


def split_pair(tokens: PairTokens, max_seq_len: int, max_question_len: int,
               doc_stride: int | None, default_stride: int = DEFAULT_DOC_STRIDE) -> list[Window]:
    """The windows of one pair, in context order. Raises WindowError naming the parameter."""
    prefix, suffix = _prefix_and_suffix(tokens, max_question_len)
    room = max_seq_len - len(prefix) - len(suffix)
    if room < 1:
        kept = min(tokens.question_tokens, max_question_len)
        raise WindowError(
            "question", f"{kept} tokens leave no room for the context in the model's windows of "
            f"{max_seq_len} tokens; send a shorter question or a lower max_question_len",
        )
    stride = resolve_stride(doc_stride, room, default_stride)
    if stride >= room:
        raise WindowError(
            "doc_stride", f"{stride} must be below the {room} context tokens of a window "
            f"({max_seq_len} - {len(prefix) + len(suffix)} question and special tokens)",
        )
    context = np.flatnonzero(tokens.sequence_ids == CONTEXT)
    windows = []
    for start, stop in part_ranges(len(context), room, stride):
        positions = np.concatenate([prefix, context[start:stop], suffix])
        windows.append(Window(
            ids=tokens.ids[positions].tolist(),
            offsets=tokens.offsets[positions],
            is_context=tokens.sequence_ids[positions] == CONTEXT,
        ))
    return windows
