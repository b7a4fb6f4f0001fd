"""The sentences of the embedding task: split from documents, read from tables (both texts of a
pair), deduplicated, split into training and held-out sentences (seeded), capped."""

import json

import pytest

from distill.data import DataError
from distill.tasks.embeddings.data import EmbeddingDataConfig, load_data, read_texts, split_sentences
from tests import tiny


def test_documents_are_split_into_sentences():
    text = 'A fine film. It moved me to tears! Did it work? "Yes, it did." 10/10. The end came at 3 a.m. quietly.'
    assert split_sentences(text) == ["A fine film.", "It moved me to tears!", "Did it work?", '"Yes, it did."',
                                     "The end came at 3 a.m. quietly."]


def test_text_file_and_table_sources(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("One long line here. And another sentence here.\nOne long line here.\n")
    assert read_texts(EmbeddingDataConfig(source=str(text))) == ["One long line here.", "And another sentence here."]
    table = tmp_path / "pairs.jsonl"
    table.write_text("".join(json.dumps({"q": f"question {i}", "a": f"answer {i}", "label": 1}) + "\n" for i in range(3)))
    texts = read_texts(EmbeddingDataConfig(source=str(table), text_column="q", text_pair_column="a"))
    assert texts == ["question 0", "answer 0", "question 1", "answer 1", "question 2", "answer 2"]
    with pytest.raises(DataError, match="column 'text' not found"):
        read_texts(EmbeddingDataConfig(source=str(table)))


def test_split_is_seeded_disjoint_and_capped(tmp_path):
    csv = tiny.write_csv(tmp_path / "s.csv", tiny.validation_rows())
    config = EmbeddingDataConfig(source=str(csv), validation_fraction=0.25, seed=3)
    data = load_data(config)
    assert len(data.validation) == 18 and len(data.train) == 54 and not set(data.train) & set(data.validation)
    assert load_data(config).validation == data.validation
    capped = load_data(EmbeddingDataConfig(source=str(csv), validation_fraction=0.25, seed=3, max_train_examples=10,
                                           max_eval_examples=5))
    assert len(capped.train) == 10 and len(capped.validation) == 5 and data.sts is None
    assert capped.description["sentences"] == 72


def test_too_little_text_is_refused(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("Only one sentence here.\n")
    with pytest.raises(DataError, match="at least 2"):
        load_data(EmbeddingDataConfig(source=str(path)))


def test_several_sources_are_one_deduplicated_corpus(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("The first file speaks here.\nBoth files share this line.\n")
    second.write_text("Both files share this line.\nThe second file speaks too.\n")
    texts = read_texts(EmbeddingDataConfig(source=f"{first}, {second}"))
    assert texts == ["The first file speaks here.", "Both files share this line.", "The second file speaks too."]


def test_the_training_sentences_are_a_seeded_shuffle(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"Sentence number {i} is here.\n" for i in range(40)))
    data = load_data(EmbeddingDataConfig(source=str(corpus), seed=1))
    assert data.train != sorted(data.train, key=lambda s: int(s.split()[2]))
    assert load_data(EmbeddingDataConfig(source=str(corpus), seed=1)).train == data.train


def test_a_source_without_usable_sentences_or_unreadable_is_named(tmp_path):
    good, short, binary = tmp_path / "good.txt", tmp_path / "short.txt", tmp_path / "binary.txt"
    good.write_text("A perfectly usable sentence here.\n")
    short.write_text("Hi.\nOk then.\n")
    binary.write_bytes(b"\xff\xfe\x00bad bytes \xc3\x28 here")
    with pytest.raises(DataError, match=f"'{short}' has no usable sentence"):
        read_texts(EmbeddingDataConfig(source=f"{good},{short}"))
    with pytest.raises(DataError, match=f"cannot read the text source '{binary}'"):
        read_texts(EmbeddingDataConfig(source=f"{good},{binary}"))
    with pytest.raises(DataError, match="corpus file not found"):
        read_texts(EmbeddingDataConfig(source=f"{good},{tmp_path / 'missing.txt'}"))
