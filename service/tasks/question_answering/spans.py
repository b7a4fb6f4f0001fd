"""Extractive question answering: the best answer spans from start/end logits (pure numpy).

Follows `transformers.QuestionAnsweringPipeline`:
- In each window, start and end logits go through a softmax over the context tokens and the CLS
  token (question, special and padding tokens are excluded). A span (s, e) scores
  p_start[s] x p_end[e]; it needs s <= e, e - s + 1 <= max_answer_len, and both ends in the
  context.
- The null score of a window is p_start[CLS] x p_end[CLS]; the null score of the request is the
  lowest over its windows. With `handle_impossible_answer` the empty answer
  {answer: "", score: null score, start: 0, end: 0} competes with the spans.
- Answers of all windows are ranked by score (ties: the earlier span first); `top_k` are kept.
  Unlike the pipeline, a span found in two overlapping windows is answered once, with its best
  score, so that top_k answers are distinct.
- Character offsets come from the tokenizer's offsets of the first and last token of the span,
  so `context[start:end]` is the answer, whatever the normalization (accents, case, CJK, emoji).
- Like the pipeline's `align_to_words`, a span that starts or ends inside a word is widened to
  the whole word (a sub-word token never cuts "Broncos" to "Bron"); then surrounding whitespace and
  punctuation that is not part of the answer is trimmed (`modelfolder.spans.answer_bounds`): a comma or colon at
  either end, a closing bracket or quote without its opening one (and the reverse), a sentence's
  final period (kept after an abbreviation such as "U.S."). `start`/`end` move with the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from modelfolder.spans import answer_bounds

CLS_INDEX = 0


@dataclass(frozen=True)
class Span:
    """A candidate answer: its score and character offsets [start, end) into the context."""

    score: float
    start: int
    end: int


@dataclass(frozen=True)
class WindowSpans:
    """The best spans of one window and its null (no answer) score."""

    spans: list[Span]
    null_score: float


def masked_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax over the allowed positions; 0 elsewhere."""
    logits = np.where(allowed, np.asarray(logits, dtype=np.float64), -np.inf)
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


def _span_band(context: np.ndarray, max_answer_len: int) -> tuple[np.ndarray, np.ndarray]:
    """For the i-th context token as start, the ends j = i + d (d < max_answer_len) as indices
    into `context` (clipped), and whether each span is valid (inside, at most max_answer_len
    tokens). A band of len(context) x max_answer_len, not a full square of the window."""
    m = len(context)
    ends = np.arange(m)[:, None] + np.arange(min(max_answer_len, m))[None, :]
    inside = ends < m
    ends = np.minimum(ends, m - 1)
    valid = inside & (context[ends] - context[:, None] < max_answer_len)
    return ends, valid


def window_spans(start_logits: np.ndarray, end_logits: np.ndarray, is_context: np.ndarray,
                 offsets: np.ndarray, top_k: int, max_answer_len: int) -> WindowSpans:
    """The `top_k` best spans of one window (best first) and its null score. The logits may be
    longer than the window (padding of the batch): only the window's own tokens count."""
    n = len(is_context)
    is_context = np.asarray(is_context, dtype=bool)
    allowed = is_context.copy()
    allowed[CLS_INDEX] = True
    p_start = masked_softmax(start_logits[:n], allowed)
    p_end = masked_softmax(end_logits[:n], allowed)
    null_score = float(p_start[CLS_INDEX] * p_end[CLS_INDEX])
    context = np.flatnonzero(is_context)
    if context.size == 0:
        return WindowSpans([], null_score)
    ends, valid = _span_band(context, max_answer_len)
    scores = np.where(valid, p_start[context][:, None] * p_end[context[ends]], -1.0).ravel()
    k = min(top_k, int(valid.sum()))
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.lexsort((best, -scores[best]))]  # by score, then earlier start, then earlier end
    width = ends.shape[1]
    spans = []
    for flat in best:
        s, e = context[flat // width], context[ends.flat[flat]]
        spans.append(Span(float(scores[flat]), int(offsets[s][0]), int(offsets[e][1])))
    return WindowSpans(spans, null_score)


def best_answers(context: str, windows: Sequence[WindowSpans], top_k: int,
                 handle_impossible_answer: bool) -> list[dict]:
    """[{answer, score, start, end}] over all windows of one context, best first, at most top_k.
    Never empty: when no span exists (no context token) the empty answer is given."""
    best: dict[tuple[int, int], float] = {}
    for window in windows:
        for span in window.spans:
            key = answer_bounds(context, span.start, span.end)
            best[key] = max(best.get(key, -1.0), span.score)
    null_score = min((w.null_score for w in windows), default=0.0)
    ranked = [(score, start, end) for (start, end), score in best.items()]
    if handle_impossible_answer or not ranked:
        ranked.append((null_score, 0, 0))
    ranked.sort(key=lambda r: (-r[0], r[1], r[2]))
    return [
        {"answer": context[start:end], "score": score, "start": start, "end": end}
        for score, start, end in ranked[:top_k]
    ]
