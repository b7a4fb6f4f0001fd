"""Question answering: the best answer span of a context from per-window start/end logits, and the
official SQuAD exact-match and F1 (normalised answers, max over the gold answers).

Scores are fractions in [0, 1] (SQuAD's published numbers are these times 100).
"""

from __future__ import annotations

import collections
import re
import string
from dataclasses import dataclass

import numpy as np

from distill.tasks.question_answering.data import QAExample
from distill.tasks.question_answering.features import Windows
from modelfolder.spans import answer_bounds

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


@dataclass(frozen=True)
class SpanConfig:
    max_answer_len: int = 30  # tokens
    n_best: int = 20  # start and end candidates per window
    null_threshold: float = 0.0  # answer "" when null score > best span score + threshold
    allow_impossible: bool = False  # SQuAD v2: the empty answer is a possible prediction


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles (a/an/the), single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token-overlap F1 of the normalised answers; an empty answer scores 1 only against empty."""
    predicted, golden = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not golden:
        return float(predicted == golden)
    common = sum((collections.Counter(predicted) & collections.Counter(golden)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(golden)
    return 2 * precision * recall / (precision + recall)


def squad_metrics(examples: list[QAExample], predictions: dict[str, str]) -> dict[str, float]:
    """Mean exact match and F1 over `examples`, each the max over its gold answers ("" when none)."""
    if not examples:
        raise ValueError("SQuAD metrics of an empty set are undefined")
    em, f1 = [], []
    for example in examples:
        golds = [a.text for a in example.answers] or [""]
        prediction = predictions.get(example.id, "")
        em.append(max(exact_match(prediction, g) for g in golds))
        f1.append(max(f1_score(prediction, g) for g in golds))
    return {"exact_match": float(np.mean(em)), "f1": float(np.mean(f1))}


def _window_best(start: np.ndarray, end: np.ndarray, offsets, config: SpanConfig):
    """(score, first char, last char) of the best span in one window, or None."""
    context = [i for i, o in enumerate(offsets[:len(start)]) if o is not None]
    if not context:
        return None
    context_start = np.asarray(context)
    starts = context_start[np.argsort(-start[context_start], kind="stable")[:config.n_best]]
    ends = context_start[np.argsort(-end[context_start], kind="stable")[:config.n_best]]
    best = None
    for s in starts:
        for e in ends:
            if e < s or e - s + 1 > config.max_answer_len:
                continue
            score = float(start[s] + end[e])
            if best is None or score > best[0]:
                best = (score, offsets[s][0], offsets[e][1])
    return best


def best_answers(examples: list[QAExample], windows: Windows, start_logits, end_logits,
                 config: SpanConfig) -> dict[str, str]:
    """The best answer text per example id over all its windows (start/end logits per window)."""
    best: dict[int, tuple[float, int, int]] = {}
    null: dict[int, float] = {}
    for w, example_index in enumerate(windows.example_index):
        start, end = np.asarray(start_logits[w], dtype=np.float64), np.asarray(end_logits[w], dtype=np.float64)
        null[example_index] = min(null.get(example_index, np.inf), float(start[0] + end[0]))
        found = _window_best(start, end, windows.offsets[w], config)
        if found is not None and (example_index not in best or found[0] > best[example_index][0]):
            best[example_index] = found
    answers = {}
    for index, example in enumerate(examples):
        span = best.get(index)
        if span is None or (config.allow_impossible and null.get(index, -np.inf) > span[0] + config.null_threshold):
            answers[example.id] = ""
        else:  # the text the service answers for this span (whole words, no stray punctuation)
            start, end = answer_bounds(example.context, span[1], span[2])
            answers[example.id] = example.context[start:end]
    return answers
