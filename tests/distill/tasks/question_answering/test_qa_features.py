"""Windows and offsets: labels map back to the exact answer text, across window borders and
non-ASCII contexts; answers outside a window (or none) point at CLS."""

import pytest

from distill.data import DataError
from distill.tasks.question_answering.data import Answer, QAExample, read_squad_json
from distill.tasks.question_answering.features import WindowConfig, drop_answerless, make_windows


def _span_text(windows, examples, w):
    offsets = windows.offsets[w]
    start, end = windows.start_positions[w], windows.end_positions[w]
    return examples[windows.example_index[w]].context[offsets[start][0]:offsets[end][1]]


def test_labels_map_back_to_the_answer(qa_tokenizer, squad_v1):
    examples = read_squad_json(squad_v1)
    windows = make_windows(qa_tokenizer, examples, WindowConfig(max_seq_len=64, doc_stride=16, max_question_len=16))
    assert len(windows) == len(examples)  # every tiny context fits in one window
    for w in range(len(windows)):
        assert _span_text(windows, examples, w) == examples[windows.example_index[w]].answers[0].text
        assert windows.offsets[w][0] is None and windows.input_ids[w][0] == qa_tokenizer.cls_token_id


def test_long_context_windows_overlap_and_label_the_right_window(qa_tokenizer):
    words = " ".join(f"{w}" for w in ["basel", "cologne", "paris", "mozart", "songs", "lake"] * 6)
    context = f"{words} the black sea {words}"
    example = QAExample("long", "where does the danube flow into ?", context,
                        (Answer("the black sea", context.index("the black sea")),))
    config = WindowConfig(max_seq_len=24, doc_stride=8, max_question_len=10)
    windows = make_windows(qa_tokenizer, [example], config)
    assert len(windows) > 4 and all(len(ids) <= 24 for ids in windows.input_ids)
    labelled = [w for w in range(len(windows)) if windows.start_positions[w] != 0]
    assert labelled, "some window must hold the answer"
    for w in labelled:
        assert _span_text(windows, [example], w) == "the black sea"
    for w in set(range(len(windows))) - set(labelled):
        assert windows.start_positions[w] == windows.end_positions[w] == 0
        covered = [o for o in windows.offsets[w] if o is not None]
        start = context.index("the black sea")
        assert covered[0][0] > start or covered[-1][1] < start + len("the black sea")
    # consecutive windows share doc_stride context tokens
    first = [o for o in windows.offsets[0] if o is not None]
    second = [o for o in windows.offsets[1] if o is not None]
    assert first[-8:] == second[:8]


def test_answer_cut_by_a_window_border_is_cls_there(qa_tokenizer):
    context = "aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp"
    answer = "gg hh ii jj"
    example = QAExample("cut", "q ?", context, (Answer(answer, context.index(answer)),))
    windows = make_windows(qa_tokenizer, [example], WindowConfig(max_seq_len=20, doc_stride=8, max_question_len=4))
    for w in range(len(windows)):
        offsets = [o for o in windows.offsets[w] if o is not None]
        whole = offsets[0][0] <= context.index(answer) and offsets[-1][1] >= context.index(answer) + len(answer)
        assert (windows.start_positions[w] != 0) == whole
        if whole:
            assert _span_text(windows, [example], w) == answer


@pytest.mark.parametrize("context, answer", [
    ("the city of zürich lies on a lake .", "zürich"),
    ("a naïve little tune by mozart .", "naïve little tune"),
    ("the river 长江 flows east into the sea .", "长江"),
    ("cafés in paris and 北京 are busy .", "北京 are busy"),
])
def test_non_ascii_offsets(qa_tokenizer, context, answer):
    example = QAExample("u", "what ?", context, (Answer(answer, context.index(answer)),))
    windows = make_windows(qa_tokenizer, [example], WindowConfig(max_seq_len=40, doc_stride=8, max_question_len=8))
    assert _span_text(windows, [example], 0) == answer


def test_impossible_questions_point_at_cls_and_can_be_subsampled(qa_tokenizer, squad_v1):
    examples = read_squad_json(squad_v1)[:4] + [QAExample("none", "who ?", "paris is the capital .", ())]
    config = WindowConfig(max_seq_len=64, doc_stride=16, max_question_len=16)
    windows = make_windows(qa_tokenizer, examples, config)
    assert (windows.start_positions[-1], windows.end_positions[-1]) == (0, 0)
    assert len(drop_answerless(windows, 0.0, seed=0)) == 4
    assert len(drop_answerless(windows, 1.0, seed=0)) == 5


def test_long_questions_are_clipped_and_bad_strides_refused(qa_tokenizer):
    example = QAExample("q", " ".join(["which river"] * 30) + " ?", "the rhine flows .", ())
    windows = make_windows(qa_tokenizer, [example], WindowConfig(max_seq_len=32, doc_stride=4, max_question_len=8))
    assert windows.input_ids[0].index(qa_tokenizer.sep_token_id) == 9  # [CLS] + 8 question tokens
    with pytest.raises(DataError, match="--doc-stride 30"):
        make_windows(qa_tokenizer, [example], WindowConfig(max_seq_len=40, doc_stride=30, max_question_len=8))
