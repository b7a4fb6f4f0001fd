"""Span selection of question answering on crafted logits (pure numpy, no server, no model)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from modelfolder.spans import answer_bounds
from service.runtime.model import second_segment
from service.tasks.question_answering.spans import Span, WindowSpans, best_answers, masked_softmax, window_spans

CONTEXT = "alpha beta gamma delta epsilon"
WORDS = [(0, 5), (6, 10), (11, 16), (17, 22), (23, 30)]  # character offsets of the five words
LOW = -50.0  # a logit that makes a position all but impossible


def window(words: list[int], question_tokens: int = 2):
    """[CLS] question [SEP] words... [SEP]: (is_context, offsets) of the window."""
    n = 2 + question_tokens + len(words) + 1
    is_context = np.zeros(n, dtype=bool)
    offsets = np.zeros((n, 2), dtype=np.int64)
    first = 2 + question_tokens
    is_context[first: first + len(words)] = True
    offsets[first: first + len(words)] = np.reshape([WORDS[w] for w in words], (-1, 2))
    return is_context, offsets


def logits_for(is_context: np.ndarray, by_position: dict[int, float], default: float = 0.0) -> np.ndarray:
    logits = np.full(len(is_context), default)
    for position, value in by_position.items():
        logits[position] = value
    return logits


def brute_force(start, end, is_context, offsets, max_answer_len):
    """Every allowed span with its score, best first (ties: earlier span first)."""
    allowed = is_context.copy()
    allowed[0] = True
    p_start, p_end = masked_softmax(start, allowed), masked_softmax(end, allowed)
    spans = [
        (p_start[s] * p_end[e], s, e)
        for s, e in itertools.product(range(len(is_context)), repeat=2)
        if is_context[s] and is_context[e] and s <= e < s + max_answer_len
    ]
    spans.sort(key=lambda t: (-t[0], t[1], t[2]))
    return [Span(score, int(offsets[s][0]), int(offsets[e][1])) for score, s, e in spans]


def test_masked_softmax_ignores_the_masked_positions():
    probabilities = masked_softmax(np.array([1.0, 100.0, 1.0]), np.array([True, False, True]))
    np.testing.assert_allclose(probabilities, [0.5, 0.0, 0.5])


@pytest.mark.parametrize("seed", range(20))
def test_window_spans_equal_a_brute_force_search(seed):
    rng = np.random.default_rng(seed)
    is_context, offsets = window([0, 1, 2, 3, 4], question_tokens=int(rng.integers(1, 4)))
    start, end = rng.normal(0, 2, len(is_context)), rng.normal(0, 2, len(is_context))
    max_answer_len, top_k = int(rng.integers(1, 9)), int(rng.integers(1, 20))
    got = window_spans(start, end, is_context, offsets, top_k, max_answer_len).spans
    expected = brute_force(start, end, is_context, offsets, max_answer_len)[:top_k]
    assert [(s.start, s.end) for s in got] == [(s.start, s.end) for s in expected]
    np.testing.assert_allclose([s.score for s in got], [s.score for s in expected])


def test_spans_never_touch_the_question_special_tokens_or_padding():
    is_context, offsets = window([0, 1, 2])
    # huge logits on CLS, the question, the separators and two padding positions of the batch
    start = np.array([LOW, 30.0, 30.0, 30.0, 0.0, 0.0, 0.0, 30.0, 30.0, 30.0])
    end = start.copy()
    result = window_spans(start, end, is_context, offsets, top_k=50, max_answer_len=15)
    assert len(result.spans) == 6  # 3 single words + 2 pairs + 1 triple, nothing else
    assert all(s.start in (0, 6, 11) and s.end in (5, 10, 16) and s.start < s.end for s in result.spans)


def test_end_before_start_and_too_long_spans_are_excluded():
    is_context, offsets = window([0, 1, 2, 3, 4])
    # positions: CLS 0, question 1-2, SEP 3, alpha 4 ... epsilon 8, SEP 9
    # the best start is on "delta", the best end on "beta": that span would run backwards
    start = logits_for(is_context, {0: LOW, 7: 10.0})
    end = logits_for(is_context, {0: LOW, 5: 10.0})
    spans = window_spans(start, end, is_context, offsets, 50, 15).spans
    assert len(spans) == 15 and all(s.start < s.end for s in spans)  # 5+4+3+2+1, none backwards
    # "alpha" to "epsilon" is 5 tokens: found with max_answer_len 5, not with 4
    start, end = logits_for(is_context, {0: LOW, 4: 10.0}), logits_for(is_context, {0: LOW, 8: 10.0})
    spans = window_spans(start, end, is_context, offsets, 1, 5).spans
    assert CONTEXT[spans[0].start: spans[0].end] == CONTEXT
    spans = window_spans(start, end, is_context, offsets, 1, 4).spans
    assert CONTEXT[spans[0].start: spans[0].end] != CONTEXT


def test_an_answer_across_a_window_border_is_found_in_the_window_that_holds_it():
    """Window 1 holds alpha..gamma, window 2 beta..epsilon (a stride of two words). The answer
    "gamma delta" starts in window 1 but ends past its border: window 2 finds it whole."""
    first_ctx, first_off = window([0, 1, 2])  # alpha at position 4
    second_ctx, second_off = window([1, 2, 3, 4])  # beta at position 4
    first = window_spans(
        logits_for(first_ctx, {6: 9.0}), logits_for(first_ctx, {6: 1.0}), first_ctx, first_off, 3, 15)
    second = window_spans(
        logits_for(second_ctx, {5: 9.0}), logits_for(second_ctx, {6: 9.0}), second_ctx, second_off, 3, 15)
    answers = best_answers(CONTEXT, [first, second], top_k=3, handle_impossible_answer=False)
    assert answers[0]["answer"] == "gamma delta"
    assert (answers[0]["start"], answers[0]["end"]) == (11, 22)
    assert answers[0]["score"] > 0.9
    spans = [(a["start"], a["end"]) for a in answers]
    assert len(spans) == len(set(spans))  # "gamma" from both windows is one answer


def test_the_same_span_in_two_windows_keeps_its_best_score():
    windows = [WindowSpans([Span(0.2, 0, 5)], 0.1), WindowSpans([Span(0.7, 0, 5), Span(0.1, 6, 10)], 0.3)]
    answers = best_answers(CONTEXT, windows, top_k=5, handle_impossible_answer=False)
    assert answers == [
        {"answer": "alpha", "score": 0.7, "start": 0, "end": 5},
        {"answer": "beta", "score": 0.1, "start": 6, "end": 10},
    ]


def test_impossible_answer_takes_the_lowest_null_score_of_the_windows():
    windows = [WindowSpans([Span(0.4, 0, 5)], 0.9), WindowSpans([Span(0.3, 6, 10)], 0.6)]
    with_null = best_answers(CONTEXT, windows, top_k=3, handle_impossible_answer=True)
    assert with_null[0] == {"answer": "", "score": 0.6, "start": 0, "end": 0}
    assert [a["answer"] for a in with_null] == ["", "alpha", "beta"]
    without = best_answers(CONTEXT, windows, top_k=3, handle_impossible_answer=False)
    assert [a["answer"] for a in without] == ["alpha", "beta"]


def test_cls_logits_make_the_null_score():
    is_context, offsets = window([0, 1])
    start = logits_for(is_context, {0: 5.0})
    result = window_spans(start, start.copy(), is_context, offsets, 1, 15)
    p_cls = np.exp(5.0) / (np.exp(5.0) + 2)
    assert result.null_score == pytest.approx(p_cls ** 2)
    assert result.spans[0].score == pytest.approx((1 / (np.exp(5.0) + 2)) ** 2)


def test_a_window_without_context_tokens_answers_empty():
    is_context, offsets = window([])
    result = window_spans(np.zeros(len(is_context)), np.zeros(len(is_context)), is_context, offsets, 2, 15)
    assert result.spans == [] and result.null_score == pytest.approx(1.0)
    answers = best_answers("   ", [result], top_k=2, handle_impossible_answer=False)
    assert answers == [{"answer": "", "score": pytest.approx(1.0), "start": 0, "end": 0}]


def test_top_k_is_best_first_with_ties_broken_by_position():
    windows = [WindowSpans([Span(0.5, 11, 16), Span(0.5, 0, 5), Span(0.9, 6, 10)], 0.0)]
    answers = best_answers(CONTEXT, windows, top_k=2, handle_impossible_answer=False)
    assert [a["answer"] for a in answers] == ["beta", "alpha"]


def test_second_segment_marks_the_context_and_its_separator():
    sep, pad = 3, 0
    ids = np.array([[2, 7, 3, 8, 9, 3], [2, 7, 3, 8, 3, pad]])
    mask = (np.arange(6)[None, :] < np.array([[6], [5]])).astype(np.int64)
    np.testing.assert_array_equal(
        second_segment(ids, mask, sep), [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0]])
    np.testing.assert_array_equal(second_segment(ids, mask, None), np.zeros_like(ids))


@pytest.mark.parametrize("context, span, answer", [
    ("the Denver Broncos won", "Denver Bro", "Denver Broncos"),  # a sub-word end widens to the word
    ("the Denver Broncos won", "roncos", "Broncos"),  # and a sub-word start
    ("it was founded in 1999.", "1999.", "1999"),  # a sentence's period
    ("they moved to the U.S. in 1990", "the U.S.", "the U.S."),  # an abbreviation keeps its period
    ("met Dr. Smith", "Dr.", "Dr."),
    ("red, green and blue", "red,", "red"),  # commas, colons, semicolons at either end
    ("note: the river", ": the river", "the river"),
    ("born (in 1809) in Kentucky", "1809)", "1809"),  # a bracket without its partner
    ("born (in 1809) in Kentucky", "(in 1809", "in 1809"),
    ("born (in 1809) in Kentucky", "(in 1809)", "(in 1809)"),  # a balanced pair stays
    ('called "the king" by all', 'the king"', "the king"),
    ('called "the king" by all', '"the king"', '"the king"'),
    ("a naïve tune", "naï", "naïve"),
    ("東京タワー", "京", "京"),  # CJK characters are words of their own
])
def test_answer_text_is_whole_words_without_stray_punctuation(context, span, answer):
    start = context.index(span)
    begin, end = answer_bounds(context, start, start + len(span))
    assert context[begin:end] == answer  # the offsets move with the text


def test_an_answer_of_punctuation_alone_is_kept():
    assert answer_bounds("a , b", 2, 3) == (2, 3)


def test_answers_are_cleaned_and_spans_that_clean_alike_merge():
    context = "won in 1999. Then"
    year, year_dot = (7, 11), (7, 12)
    windows = [WindowSpans([Span(0.5, *year_dot), Span(0.3, *year), Span(0.1, 0, 3)], 0.0)]
    answers = best_answers(context, windows, top_k=3, handle_impossible_answer=False)
    assert [(a["answer"], a["start"], a["end"], a["score"]) for a in answers] == [
        ("1999", 7, 11, 0.5), ("won", 0, 3, 0.1)]
