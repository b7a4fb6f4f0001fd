"""Windows over sub-tokens, labels on each word's first sub-token only, and tags read back from
the best window of each word."""

import numpy as np
import pytest

from distill.data import DataError
from distill.tasks.token_classification.data import Sentence
from distill.tasks.token_classification.features import (
    IGNORE,
    TokenDataset,
    WindowConfig,
    check_window_config,
    make_windows,
    window_starts,
    word_tags,
)

LABELS = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def test_window_starts_cover_the_sentence_with_the_stride_shared():
    assert window_starts(5, 6, 2) == [0]
    assert window_starts(10, 6, 2) == [0, 4]  # [0, 6) and [4, 10): 2 shared
    assert window_starts(11, 6, 2) == [0, 4, 8]
    assert window_starts(10, 6, 0) == [0, 6]


def test_bad_window_settings_are_refused():
    with pytest.raises(DataError, match="--doc-stride 6 must be"):
        check_window_config(WindowConfig(max_seq_len=8, doc_stride=6))
    with pytest.raises(DataError, match="--max-seq-len must be at least 3"):
        check_window_config(WindowConfig(max_seq_len=2, doc_stride=0))


def test_only_the_first_sub_token_of_a_word_is_labelled(tc_tokenizer):
    # "grenoble" is not in the tiny vocabulary: it becomes one piece per letter
    sentence = Sentence(("anna", "visited", "grenoble"), ("B-PER", "O", "B-LOC"))
    windows = make_windows(tc_tokenizer, [sentence], LABELS, WindowConfig(max_seq_len=32, doc_stride=4))
    assert len(windows) == 1
    ids, labels = windows.input_ids[0], windows.labels[0]
    pieces = tc_tokenizer.convert_ids_to_tokens(ids)
    assert pieces[:4] == ["[CLS]", "anna", "visited", "g"] and pieces[-1] == "[SEP]" and len(pieces) == 3 + 8 + 1
    assert labels == [IGNORE, 5, 0, 1] + [IGNORE] * 8
    assert windows.positions == [[(0, 1), (0, 2), (0, 3)]]


def test_punctuation_split_off_a_word_is_labelled_as_the_entity_going_on(tc_tokenizer):
    # the pre-tokenizer makes "smith." two pieces and "paris]]" three: the service reads a tag at
    # each piece, so each is labelled (I- of the word's type, or O); the word is still read at its
    # first piece. Sub-words of one piece ("to", "##d", "##a", "##y") keep only their first labelled.
    sentence = Sentence(("anna", "smith.", "visited", "paris]]", "today!"), ("B-PER", "I-PER", "O", "B-LOC", "O"))
    windows = make_windows(tc_tokenizer, [sentence], LABELS, WindowConfig(max_seq_len=32, doc_stride=4))
    pieces = tc_tokenizer.convert_ids_to_tokens(windows.input_ids[0])
    assert pieces[1:-1] == ["anna", "smith", ".", "visited", "paris", "[UNK]", "[UNK]", "to", "##d", "##a", "##y", "!"]
    assert windows.labels[0] == [IGNORE, 5, 6, 6, 0, 1, 2, 2, 0, IGNORE, IGNORE, IGNORE, 0, IGNORE]
    assert windows.positions == [[(0, 1), (0, 2), (0, 4), (0, 5), (0, 8)]]


def test_a_long_sentence_is_windowed_and_each_word_read_where_it_has_most_context(tc_tokenizer):
    words = "anna smith lives in paris with tom".split()
    sentence = Sentence(tuple(words), ("B-PER", "I-PER", "O", "O", "B-LOC", "O", "B-PER"))
    windows = make_windows(tc_tokenizer, [sentence], LABELS, WindowConfig(max_seq_len=6, doc_stride=2))
    # 7 one-piece words, 4 per window, 2 shared: words [0, 4), [2, 6), [4, 7)
    assert windows.sentence == [0, 0, 0]
    assert [len(ids) for ids in windows.input_ids] == [6, 6, 5]
    assert windows.labels[1] == [IGNORE, 0, 0, 1, 0, IGNORE]  # in, lives ... every word of a window labelled
    # context of a word = sub-tokens before and after it in a window, the smaller count: "lives" has
    # 1 in window 0 and 0 in window 1, "in" 0 in window 0 and 1 in window 1, ...
    assert windows.positions == [[(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 2), (2, 3)]]


def test_word_tags_read_the_argmax_at_the_chosen_positions(tc_tokenizer):
    sentences = [Sentence(("anna", "grenoble"), ("B-PER", "B-LOC")), Sentence(("tom",), ("B-PER",))]
    windows = make_windows(tc_tokenizer, sentences, LABELS, WindowConfig(max_seq_len=16, doc_stride=2))
    logits = [np.zeros((len(ids), len(LABELS))) for ids in windows.input_ids]
    logits[0][1, 5] = logits[0][2, 1] = logits[1][1, 3] = 1.0
    logits[0][3, 6] = 5.0  # a later sub-token of "grenoble": never read
    assert word_tags(windows, logits, LABELS) == [["B-PER", "B-LOC"], ["B-ORG"]]


def test_a_word_without_sub_tokens_is_tagged_outside(tc_tokenizer):
    sentences = [Sentence(("anna", "\u200b"), ("B-PER", "B-LOC"))]
    windows = make_windows(tc_tokenizer, sentences, LABELS, WindowConfig(max_seq_len=16, doc_stride=2))
    assert windows.positions == [[(0, 1), None]]
    logits = [np.ones((len(windows.input_ids[0]), len(LABELS)))]
    assert word_tags(windows, logits, LABELS) == [["O", "O"]]


def test_dataset_rows_carry_labels_and_skip_windows_without_any(tc_tokenizer):
    sentences = [Sentence(("anna",), ("B-PER",)), Sentence(("\u200b",), ("O",))]
    windows = make_windows(tc_tokenizer, sentences, LABELS, WindowConfig(max_seq_len=16, doc_stride=2))
    dataset = TokenDataset(windows)
    assert len(dataset) == 1
    assert dataset[0] == {"input_ids": windows.input_ids[0], "attention_mask": [1, 1, 1], "labels": [IGNORE, 5, IGNORE]}
