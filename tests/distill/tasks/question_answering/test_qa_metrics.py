"""SQuAD normalisation, exact match and F1 on hand-checked cases; span choice across windows."""

import numpy as np
import pytest

from distill.tasks.question_answering.data import Answer, QAExample
from distill.tasks.question_answering.features import Windows
from distill.tasks.question_answering.metrics import (
    SpanConfig,
    best_answers,
    exact_match,
    f1_score,
    normalize_answer,
    squad_metrics,
)


def test_normalisation():
    assert normalize_answer("The  Black Sea!") == "black sea"
    assert normalize_answer("An apple, a pear & THE plum.") == "apple pear plum"
    assert normalize_answer("theatre") == "theatre"  # articles only as whole words
    assert normalize_answer("Zürich's") == "zürichs"


def test_exact_match_and_f1_by_hand():
    assert exact_match("the Black sea.", "black sea") == 1.0
    assert exact_match("black sea coast", "black sea") == 0.0
    # prediction 3 tokens, gold 2, overlap 2: precision 2/3, recall 1, F1 = 0.8
    assert f1_score("black sea coast", "the black sea") == pytest.approx(0.8)
    # a repeated token overlaps once per gold occurrence: "sea sea" vs "sea": common 1, P 1/2, R 1
    assert f1_score("sea sea", "sea") == pytest.approx(2 / 3)
    assert f1_score("", "") == 1.0 and f1_score("x", "") == 0.0 and f1_score("", "x") == 0.0
    assert f1_score("rhine", "danube") == 0.0


def test_max_over_gold_answers_and_impossible():
    examples = [
        QAExample("a", "q", "ctx", (Answer("near rotterdam", 0), Answer("rotterdam", 5))),
        QAExample("b", "q", "ctx", (Answer("three songs", 0),)),
        QAExample("c", "q", "ctx", ()),
    ]
    metrics = squad_metrics(examples, {"a": "Rotterdam", "b": "songs", "c": ""})
    # a: EM 1 via the second gold; b: EM 0, F1 2*(1*0.5)/(1.5) = 2/3; c: empty vs empty = 1
    assert metrics["exact_match"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx((1 + 2 / 3 + 1) / 3)


def _windows(offsets_per_window, example_index):
    windows = Windows()
    windows.offsets = offsets_per_window
    windows.example_index = example_index
    return windows


def test_best_span_over_windows_inside_context_only():
    context = "aa bb cc dd"
    example = QAExample("x", "q", context, (Answer("cc", 6),))
    # window 0: tokens [CLS] q [SEP] aa bb [SEP]; window 1: [CLS] q [SEP] bb cc dd [SEP]
    w0 = [None, None, None, (0, 2), (3, 5), None]
    w1 = [None, None, None, (3, 5), (6, 8), (9, 11), None]
    start0 = np.array([0, 9, 0, 1, 0, 0.0])  # the question token (1) scores high but is not context
    end0 = np.array([0, 9, 0, 0, 1, 0.0])
    start1 = np.array([0, 0, 0, 0, 3, 0, 0.0])
    end1 = np.array([0, 0, 0, 0, 2, 5, 0.0])
    windows = _windows([w0, w1], [0, 0])
    answers = best_answers([example], windows, [start0, start1], [end0, end1], SpanConfig())
    assert answers == {"x": "cc dd"}  # 3 + 5 beats 3 + 2 and window 0's 1 + 1
    short = best_answers([example], windows, [start0, start1], [end0, end1], SpanConfig(max_answer_len=1))
    assert short == {"x": "cc"}


def test_null_answer_against_threshold():
    example = QAExample("x", "q", "aa bb", ())
    offsets = [None, None, None, (0, 2), (3, 5), None]
    start = np.array([4.0, 0, 0, 2, 0, 0])
    end = np.array([1.0, 0, 0, 0, 2, 0])  # null 5 vs best span "aa bb" 4
    windows = _windows([offsets], [0])
    assert best_answers([example], windows, [start], [end], SpanConfig(allow_impossible=True)) == {"x": ""}
    lenient = SpanConfig(allow_impossible=True, null_threshold=1.5)
    assert best_answers([example], windows, [start], [end], lenient) == {"x": "aa bb"}
    assert best_answers([example], windows, [start], [end], SpanConfig()) == {"x": "aa bb"}
