"""Token classification decoding with known logits: every aggregation strategy, both IOB schemes,
ignore_labels, and windows of a long text read back from their most central window."""

from __future__ import annotations

import numpy as np
import pytest

from service.tasks.token_classification.entities import TextTokens, entities, softmax
from service.tasks.token_classification.windows import EncodedText, StrideError, split_text, text_logits

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
TEXT = "Angela Merkel visited Zürichsee"
# tokens: angela | merkel | visited | zurich ##s ##e ##e (one word of four sub-tokens)
OFFSETS = np.array([(0, 6), (7, 13), (14, 21), (22, 28), (28, 29), (29, 30), (30, 31)])
WORDS = np.array([0, 1, 2, 3, 3, 3, 3])


def logits_for(tags: list[str], high: float = 6.0) -> np.ndarray:
    rows = np.zeros((len(tags), len(LABELS)), dtype=np.float32)
    for i, tag in enumerate(tags):
        rows[i, LABELS.index(tag)] = high
    return rows


def tokens(tags: list[str], high: float = 6.0) -> TextTokens:
    return TextTokens(offsets=OFFSETS, word_ids=WORDS, logits=logits_for(tags, high))


TAGS = ["B-PER", "I-PER", "O", "B-LOC", "O", "O", "O"]
HIGH = float(softmax(np.array([6.0, 0, 0, 0, 0]))[0])  # the score of a tag with logit 6 among zeros


def test_first_groups_words_into_entities_with_character_offsets():
    found = entities(TEXT, tokens(TAGS), LABELS, "first", ["O"])
    assert found == [
        {"entity_group": "PER", "score": pytest.approx(HIGH), "word": "Angela Merkel", "start": 0, "end": 13},
        {"entity_group": "LOC", "score": pytest.approx(HIGH), "word": "Zürichsee", "start": 22, "end": 31},
    ]


def test_simple_groups_sub_tokens_so_a_word_may_be_cut():
    found = entities(TEXT, tokens(TAGS), LABELS, "simple", ["O"])
    assert [(e["entity_group"], e["word"], e["start"], e["end"]) for e in found] == [
        ("PER", "Angela Merkel", 0, 13), ("LOC", "Zürich", 22, 28)]


def test_none_reports_every_sub_token_with_its_tag_and_index():
    found = entities(TEXT, tokens(TAGS), LABELS, "none", [])
    assert len(found) == 7
    assert found[4] == {"entity": "O", "score": pytest.approx(HIGH), "index": 5, "word": "s", "start": 28, "end": 29}
    kept = entities(TEXT, tokens(TAGS), LABELS, "none", ["O"])
    assert [(e["entity"], e["word"], e["index"]) for e in kept] == [
        ("B-PER", "Angela", 1), ("I-PER", "Merkel", 2), ("B-LOC", "Zürich", 4)]


def test_average_and_max_read_every_sub_token_of_a_word():
    rows = logits_for(TAGS)
    rows[3, 3] = 7.0  # "zurich" surer than its three "O" sub-tokens
    sure = TextTokens(OFFSETS, WORDS, rows)
    by_max = entities(TEXT, sure, LABELS, "max", ["O"])
    assert by_max[-1]["word"] == "Zürichsee" and by_max[-1]["score"] == pytest.approx(
        float(softmax(rows[3])[3]))
    by_average = entities(TEXT, sure, LABELS, "average", ["O"])  # three "O" rows outvote one "B-LOC"
    assert [e["word"] for e in by_average] == ["Angela Merkel"]
    scores = softmax(rows[:2].astype(np.float64))
    assert by_average[0]["score"] == pytest.approx(float((scores[0, 1] + scores[1, 2]) / 2))


def test_a_b_tag_starts_a_new_entity_and_iob1_reads_the_same():
    iob2 = entities(TEXT, tokens(["B-PER", "B-PER", "O", "B-LOC", "O", "O", "O"]), LABELS, "first", ["O"])
    assert [e["word"] for e in iob2] == ["Angela", "Merkel", "Zürichsee"]
    iob1 = entities(TEXT, tokens(["I-PER", "I-PER", "O", "I-LOC", "O", "O", "O"]), LABELS, "first", ["O"])
    assert [(e["entity_group"], e["word"]) for e in iob1] == [("PER", "Angela Merkel"), ("LOC", "Zürichsee")]
    mixed = entities(TEXT, tokens(["I-PER", "B-PER", "O", "I-LOC", "O", "O", "O"]), LABELS, "first", ["O"])
    assert [e["word"] for e in mixed] == ["Angela", "Merkel", "Zürichsee"]  # IOB1: B- parts two of one type


def test_ignore_labels_leave_out_entity_groups_and_o_can_be_kept():
    assert [e["entity_group"] for e in entities(TEXT, tokens(TAGS), LABELS, "first", ["O", "PER"])] == ["LOC"]
    every = entities(TEXT, tokens(TAGS), LABELS, "first", [])
    assert [(e["entity_group"], e["word"]) for e in every] == [
        ("PER", "Angela Merkel"), ("O", "visited"), ("LOC", "Zürichsee")]


def test_a_text_without_tokens_has_no_entities():
    empty = TextTokens(np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 5)))
    for strategy in ("none", "simple", "first", "average", "max"):
        assert entities("", empty, LABELS, strategy, ["O"]) == []


def encoded(count: int) -> EncodedText:
    """[CLS] t0 .. t{count-1} [SEP] with ids 100 + i, one word per token."""
    ids = np.array([1, *range(100, 100 + count), 2])
    return EncodedText(ids=ids, content=np.arange(1, count + 1),
                       offsets=np.array([(0, 0), *((2 * i, 2 * i + 1) for i in range(count)), (0, 0)]),
                       word_ids=np.array([-1, *range(count), -1]))


def test_windows_share_stride_tokens_and_each_token_reads_its_most_central_window():
    text = encoded(10)
    windows = split_text(text, max_seq_len=6, stride=2, default_stride=32)  # 4 content tokens each
    assert [(w.start, w.stop) for w in windows] == [(0, 4), (2, 6), (4, 8), (6, 10)]
    assert windows[1].ids == [1, 102, 103, 104, 105, 2]
    # each window's logits name the window: tag k on window k (rows of the special tokens hold 9)
    outputs = [np.full((6, 5), 9.0) for _ in windows]
    for k, (window, output) in enumerate(zip(windows, outputs)):
        output[1:1 + window.stop - window.start] = np.eye(5)[k]
    read = text_logits(text, windows, outputs)
    # token 2 is one token inside window 0 and at the edge of window 1: window 0; token 3 the other
    # way round: window 1; and so on, each shared token to the window it is not at the edge of
    assert read.logits.argmax(axis=-1).tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 3]
    assert read.offsets.tolist()[0] == [0, 1] and read.first_index == 1


def test_default_stride_is_capped_at_half_a_window_and_a_stride_too_long_is_refused():
    windows = split_text(encoded(10), max_seq_len=6, stride=None, default_stride=32)
    assert [(w.start, w.stop) for w in windows] == [(0, 4), (2, 6), (4, 8), (6, 10)]
    with pytest.raises(StrideError, match="below the 4 tokens"):
        split_text(encoded(10), max_seq_len=6, stride=4, default_stride=32)
    (only,) = split_text(encoded(0), max_seq_len=6, stride=None, default_stride=32)
    assert only.ids == [1, 2]
