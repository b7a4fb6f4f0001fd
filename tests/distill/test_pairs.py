"""Text pairs in distill: GLUE-style files read as written, pairs tokenised as [CLS] a [SEP] b [SEP]
with the longer text cut first, the teacher given segment ids and the student none."""

from __future__ import annotations

import pytest
from transformers import DataCollatorWithPadding

from distill.data import DataError
from distill.student import model_inputs
from distill.task_protocol import DataOptions
from distill.tasks.classification.data import load_data
from distill.tasks.registry import task_for
from distill.tasks.text.data import DataConfig, Split
from distill.tasks.text.features import TextDataset, encode
from distill.tasks.text.readers import Columns, read_local_file
from distill.teacher import load_tokenizer
from tests import tiny


def write(path, text: str, bom: bool = False):
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))
    return path


def test_tsv_keeps_bare_quotes_and_drops_a_byte_order_mark(tmp_path):
    body = 'Quality\t#1 String\t#2 String\n1\tHe said "yes\tShe said "no" twice\n0\tplain\t"quoted"\n'
    path = write(tmp_path / "mrpc.tsv", body, bom=True)
    rows = read_local_file(path, Columns("#1 String", "Quality", "#2 String"))
    assert rows == [('He said "yes', 'She said "no" twice', "1"), ("plain", '"quoted"', "0")]


def test_glue_cola_format_reads_four_columns_without_a_header(tmp_path):
    body = 'gj04\t1\t\tThe "dog" barked .\ngj04\t0\t*\tBarked dog the .\n'
    write(tmp_path / "train.tsv", body)
    data = load_data(DataConfig(source=str(tmp_path / "train.tsv"), validation_source=str(tmp_path / "train.tsv"),
                                format="glue-cola"))
    assert data.train.texts == ['The "dog" barked .', "Barked dog the ."] and data.train.pairs is None
    assert data.label_names == ["0", "1"] and data.train.labels == [1, 0]


def test_pair_column_and_a_missing_one(tmp_path):
    path = write(tmp_path / "rte.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta b\tc d\tentailment\n"
                                       "1\te f\tg h\tnot_entailment\n")
    data = load_data(DataConfig(source=str(path), validation_source=str(path), text_column="sentence1",
                                text_pair_column="sentence2"))
    assert data.validation.pairs == ["c d", "g h"]
    assert data.validation_rows()[0] == {"text": "a b", "text_pair": "c d", "label": "entailment"}
    with pytest.raises(DataError, match="'hypothesis' not found"):
        load_data(DataConfig(source=str(path), text_column="sentence1", text_pair_column="hypothesis"))


def test_the_task_follows_the_format_or_the_labels(tmp_path, reviews_csv):
    scores = write(tmp_path / "sts.csv", "a,b,score\nx y,x y,4.5\nx,z,0.25\n")
    assert task_for(None, DataOptions(source=str(scores), text_column="a", text_pair_column="b",
                                      label_column="score")).name == "regression"
    assert task_for(None, DataOptions(source=str(reviews_csv))).name == "text-classification"
    assert task_for(None, DataOptions(source="x.tsv", format="glue-stsb")).name == "regression"
    assert task_for("text-classification", DataOptions(source=str(scores))).name == "text-classification"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return load_tokenizer(str(tiny.write_teacher(tmp_path_factory.mktemp("teacher"), layers=2)))


def test_a_pair_is_cls_a_sep_b_sep_with_segment_ids(tokenizer):
    split = Split(["a wonderful film"], [1], ["the worst movie"])
    encoded = encode(tokenizer, split, 32)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    assert tokens == ["[CLS]", "a", "wonderful", "film", "[SEP]", "the", "worst", "movie", "[SEP]"]
    assert encoded["token_type_ids"][0] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert "token_type_ids" not in encode(tokenizer, Split(["a film"], [0]), 32)


def test_truncation_cuts_the_longer_text_first(tokenizer):
    long = " ".join(["great"] * 20)
    encoded = encode(tokenizer, Split(["a dull film", long], [0, 1], [long, "a dull film"]), 12)
    for row in encoded["input_ids"]:
        tokens = tokenizer.convert_ids_to_tokens(row)
        assert len(tokens) == 12 and tokens.count("[SEP]") == 2
        assert ["a", "dull", "film"] == [t for t in tokens if t in ("a", "dull", "film")]  # the short text kept
        assert tokens.count("great") == 12 - 3 - 3


def test_teacher_batch_has_segment_b_and_the_student_batch_no_token_types(tokenizer, tmp_path):
    from transformers import BertForSequenceClassification, DistilBertConfig, DistilBertForSequenceClassification

    dataset = TextDataset(tokenizer, Split(["a film", "a dull and boring film"], [0, 1], ["great", "bad"]), 32)
    batch = DataCollatorWithPadding(tokenizer)([dataset[0], dataset[1]])
    teacher = BertForSequenceClassification(tiny.bert_config(len(tokenizer), layers=2, num_labels=2))
    student = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=len(tokenizer), dim=32, n_layers=1,
                                                                   n_heads=2, hidden_dim=64))
    teacher_batch, student_batch = model_inputs(teacher, batch), model_inputs(student, batch)
    assert teacher_batch["token_type_ids"][0].tolist()[:6] == [0, 0, 0, 0, 1, 1]  # [CLS] a film [SEP] great [SEP]
    assert teacher_batch["token_type_ids"][0].tolist()[6:] == [0] * (batch["input_ids"].shape[1] - 6)  # padding
    assert "token_type_ids" not in student_batch
    assert set(student_batch) == {"input_ids", "attention_mask", "labels"}
    assert student(**student_batch).logits.shape == (2, 2)


def test_the_headline_metric_comes_from_the_option_the_format_or_the_task(tmp_path):
    from distill.task_protocol import OptionValues
    from distill.tasks.registry import get_task

    task = get_task("text-classification")
    cola = type("Data", (), {"description": {"format": "glue-cola"}})()
    plain = type("Data", (), {"description": {"format": None}})()
    assert task.adapt_options(task.make_options(OptionValues()), cola).metric == "matthews"
    assert task.adapt_options(task.make_options(OptionValues()), plain).metric == "accuracy"
    assert task.adapt_options(task.make_options(OptionValues(metric="positive_f1")), cola).metric == "positive_f1"
    with pytest.raises(DataError, match="'spearman' is not a text-classification metric"):
        task.adapt_options(task.make_options(OptionValues(metric="spearman")), plain)
    assert get_task("regression").adapt_options(get_task("regression").make_options(OptionValues()), plain).metric \
        == "spearman"
