"""Cutting (question, context) pairs into windows: ranges, limits, parity with `tokenizers`."""

from __future__ import annotations

import numpy as np
import pytest
from tokenizers import Tokenizer

from modelfolder.windows import part_ranges
from service.tasks.question_answering.windows import CONTEXT, PairTokens, WindowError, split_pair
from tests.service.model_folders import QA_WORDS
from tests.tiny import write_tokenizer

NON_ASCII = [
    "Das Museum liegt in Zürich , am Fluss .",
    "Élodie a visité le musée à Genève , déjà trois fois .",
    "東京タワー は 東京 に あります 。 begin end",
    "the café 😀 opens at 9 🎉🎉 and closes late 👋🏽 .",
]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> Tokenizer:
    folder = tmp_path_factory.mktemp("tok")
    write_tokenizer(folder, extra_texts=QA_WORDS)
    return Tokenizer.from_file(str(folder / "tokenizer.json"))


def pair(tokenizer: Tokenizer, question: str, context: str) -> PairTokens:
    return PairTokens.from_encoding(tokenizer.encode(question, context))


@pytest.mark.parametrize(
    "length, size, stride, expected",
    [
        (5, 8, 3, [(0, 5)]),
        (8, 8, 3, [(0, 8)]),
        (9, 8, 3, [(0, 8), (5, 9)]),
        (13, 8, 3, [(0, 8), (5, 13)]),
        (14, 8, 3, [(0, 8), (5, 13), (10, 14)]),
        (10, 4, 0, [(0, 4), (4, 8), (8, 10)]),
        (0, 4, 0, [(0, 0)]),
    ],
)
def test_part_ranges(length, size, stride, expected):
    assert part_ranges(length, size, stride) == expected


@pytest.mark.parametrize("length, size, stride", [(n, s, t) for n in range(0, 30, 3)
                                                  for s in (1, 2, 5, 9) for t in range(s)])
def test_parts_cover_the_context_in_order_with_the_stride_as_overlap(length, size, stride):
    ranges = part_ranges(length, size, stride)
    assert ranges[0][0] == 0 and ranges[-1][1] == length
    assert all(stop - start <= size for start, stop in ranges)
    for (a, b), (c, d) in zip(ranges, ranges[1:]):
        assert c == a + size - stride and b - c == stride  # the overlap is exactly the stride


def test_part_ranges_refuses_a_stride_as_long_as_the_part():
    with pytest.raises(ValueError):
        part_ranges(10, 4, 4)


@pytest.mark.parametrize("stride", [0, 3, 7])
def test_windows_equal_the_tokenizers_own_overflow(tokenizer, stride):
    question, context = "where is the museum ?", " ".join(NON_ASCII * 2)
    windows = split_pair(pair(tokenizer, question, context), 24, 64, stride)
    reference = Tokenizer.from_str(tokenizer.to_str())
    reference.enable_truncation(max_length=24, stride=stride, strategy="only_second")
    first = reference.encode(question, context)
    expected = [first, *first.overflowing]
    assert len(windows) == len(expected) > 2
    for window, encoding in zip(windows, expected):
        assert window.ids == encoding.ids
        assert window.is_context.tolist() == [s == 1 for s in encoding.sequence_ids]
        np.testing.assert_array_equal(window.offsets[window.is_context],
                                      [o for o, s in zip(encoding.offsets, encoding.sequence_ids) if s == 1])


@pytest.mark.parametrize("context", NON_ASCII)
def test_context_offsets_are_characters_of_the_original_text(tokenizer, context):
    tokens = pair(tokenizer, "where ?", context)
    windows = split_pair(tokens, 12, 64, 2)
    for window in windows:
        for start, end in window.offsets[window.is_context]:
            piece = context[start:end]
            assert piece and piece == piece.strip()  # a real, non-blank stretch of the context
    words = context.split()
    covered = {(int(s), int(e)) for w in windows for s, e in w.offsets[w.is_context]}
    starts = sorted(s for s, _ in covered)
    assert context[starts[0]:].startswith(words[0]) and max(e for _, e in covered) == len(context.rstrip())


def test_the_question_is_cut_to_max_question_len(tokenizer):
    tokens = pair(tokenizer, "where is the museum in zurich ?", "begin cafe end")
    (window,) = split_pair(tokens, 32, 3, None)
    specials_and_question = len(window.ids) - int(window.is_context.sum())
    assert specials_and_question == 3 + 3
    assert window.ids[:4] == tokens.ids[:4].tolist()  # [CLS] where is the


def test_default_stride_is_128_capped_at_half_the_room(tokenizer):
    tokens = pair(tokenizer, "where ?", " ".join(["river"] * 40))
    windows = split_pair(tokens, 24, 64, None)  # room 24 - 4 = 20: stride 10
    starts = [int(w.offsets[w.is_context][0][0]) for w in windows]
    assert starts[1] == len("river ") * 10


def test_a_question_without_room_for_the_context_is_refused(tokenizer):
    tokens = pair(tokenizer, " ".join(["where"] * 30), "begin end")
    with pytest.raises(WindowError, match="30 tokens leave no room") as caught:
        split_pair(tokens, 32, 64, 0)
    assert caught.value.parameter == "question"
    assert len(split_pair(tokens, 32, 20, 0)) == 1  # fits once cut to 20 tokens


def test_a_stride_not_below_the_room_is_refused(tokenizer):
    tokens = pair(tokenizer, "where ?", "begin end")
    with pytest.raises(WindowError, match="27 must be below the 27 context tokens") as caught:
        split_pair(tokens, 32, 64, 27)  # 32 - [CLS] where ? [SEP] [SEP]
    assert len(split_pair(tokens, 32, 64, 26)) == 1
    assert caught.value.parameter == "doc_stride"


def test_an_empty_context_gives_one_window_without_context(tokenizer):
    (window,) = split_pair(pair(tokenizer, "where ?", "   "), 32, 64, None)
    assert not window.is_context.any() and len(window.ids) == 5
    assert (pair(tokenizer, "where ?", "   ").sequence_ids != CONTEXT).all()
