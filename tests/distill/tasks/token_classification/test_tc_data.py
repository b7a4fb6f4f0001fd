"""Reading CoNLL-style files: tags checked, sentences split on blank lines, the tag set and the
label scheme taken from the data, the validation split."""

import pytest

from distill.data import DataError
from distill.tasks.token_classification.data import (
    Sentence,
    TokenDataConfig,
    label_names,
    label_scheme,
    load_token_data,
    read_conll,
)
from tests.distill.tasks.token_classification import tiny_conll


def test_read_conll_splits_sentences_and_takes_the_last_column(tmp_path):
    path = tmp_path / "d.conll"
    path.write_text("-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n\n"
                    "Peter\tB-PER\nBlackburn\tI-PER\r\n", encoding="utf-8")
    assert read_conll(path) == [Sentence(("EU", "rejects"), ("B-ORG", "O")),
                                Sentence(("Peter", "Blackburn"), ("B-PER", "I-PER"))]


@pytest.mark.parametrize("line, message", [
    ("word\n", "expected 'token<TAB>tag'"),
    ("word\tPER\n", "tag 'PER' is neither O nor B-TYPE"),
    ("word\tE-PER\n", "tag 'E-PER' is neither O"),
    ("word\tB-\n", "tag 'B-' is neither O"),
])
def test_bad_lines_are_named(tmp_path, line, message):
    path = tmp_path / "bad.conll"
    path.write_text(f"fine\tO\n{line}", encoding="utf-8")
    with pytest.raises(DataError, match=message) as caught:
        read_conll(path)
    assert f"{path}:2" in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="CoNLL file not found"):
        read_conll(tmp_path / "none.conll")


def test_labels_are_outside_first_then_each_type_in_order():
    sentences = [Sentence(("a", "b", "c"), ("B-PER", "I-PER", "O")), Sentence(("d",), ("B-LOC",))]
    assert label_names(sentences) == ["O", "B-LOC", "B-PER", "I-PER"]  # only the tags used


def test_scheme_is_iob1_when_an_entity_starts_with_inside():
    iob2 = [Sentence(tuple(w), tuple(t)) for w, t in tiny_conll.tagged()]
    iob1 = [Sentence(tuple(w), tuple(t)) for w, t in tiny_conll.tagged(iob1=True)]
    assert label_scheme(iob2) == "IOB2" and label_scheme(iob1) == "IOB1"
    assert label_scheme([Sentence(("a", "b"), ("B-PER", "I-LOC"))]) == "IOB1"  # I- of another type
    assert label_scheme([Sentence(("a",), ("O",))]) == "IOB2"


def test_iob1_data_give_the_tags_they_use(tmp_path):
    # no two entities of one type touch in the tiny data, so its IOB1 form has no B- tag at all
    path = tiny_conll.write_conll(tmp_path / "iob1.conll", tiny_conll.tagged(iob1=True))
    data = load_token_data(TokenDataConfig(str(path), validation_fraction=0.25))
    assert data.scheme == "IOB1" and data.labels == ["O", "I-LOC", "I-ORG", "I-PER"]
    assert data.description["label_scheme"] == "IOB1"


def test_split_and_subsample_are_seeded(conll_files):
    train, dev = conll_files
    given = load_token_data(TokenDataConfig(str(train), validation_source=str(dev)))
    assert (len(given.train), len(given.validation)) == (9, 3)
    assert given.labels == ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"] and given.scheme == "IOB2"
    held = load_token_data(TokenDataConfig(f"{train},{dev}", validation_fraction=0.25, seed=3, max_train_examples=5))
    again = load_token_data(TokenDataConfig(f"{train},{dev}", validation_fraction=0.25, seed=3, max_train_examples=5))
    assert (len(held.train), len(held.validation)) == (5, 3) and held.train == again.train
    assert not set(held.train) & set(held.validation)


def test_data_without_entities_or_sentences_are_refused(tmp_path):
    plain = tiny_conll.write_conll(tmp_path / "plain.conll", [(["a", "b"], ["O", "O"]), (["c"], ["O"])])
    with pytest.raises(DataError, match="tag no entities"):
        load_token_data(TokenDataConfig(str(plain), validation_fraction=0.5))
    (tmp_path / "empty.conll").write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="has no sentences"):
        load_token_data(TokenDataConfig(str(tmp_path / "empty.conll")))


def test_records_round_trip_and_are_checked():
    sentence = Sentence(("anna", "smith"), ("B-PER", "I-PER"))
    assert Sentence.from_record(sentence.as_record()) == sentence
    with pytest.raises(DataError, match="same length"):
        Sentence.from_record({"tokens": ["a"], "tags": ["O", "O"]}, "f:1")
    with pytest.raises(DataError, match="f:2: tag 'X'"):
        Sentence.from_record({"tokens": ["a"], "tags": ["X"]}, "f:2")
