"""Corpus reading and packing, and the masked-LM student initialised from a BERT teacher."""

import pytest
import torch

from distill.corpus import CorpusConfig, documents, pack, split_documents
from distill.data import DataError
from distill.general.model import build_mlm_student, has_mlm_head, load_teacher


def test_documents_per_line_or_blank_line_separated():
    assert split_documents("one doc\n\n  \ntwo doc\n", "line") == ["one doc", "two doc"]
    blocks = "first line\nof doc one\n\ndoc two\nends here\n"
    assert split_documents(blocks, "blank") == ["first line of doc one", "doc two ends here"]
    assert split_documents(blocks, "auto") == split_documents(blocks, "blank")
    assert split_documents("a\nb\nc\n", "auto") == ["a", "b", "c"]
    with pytest.raises(DataError, match="unknown document separator"):
        split_documents("a", "comma")


def test_documents_of_several_files_and_the_document_cap(tmp_path):
    (tmp_path / "a.txt").write_text("x1\nx2\n")
    (tmp_path / "b.txt").write_text("y1\n\ny2 y3\n")
    config = CorpusConfig(sources=(str(tmp_path / "a.txt"), str(tmp_path / "b.txt")), max_documents=3)
    assert list(documents(config)) == ["x1", "x2", "y1"]
    with pytest.raises(DataError, match="corpus file not found"):
        list(documents(CorpusConfig(sources=(str(tmp_path / "missing.txt"),))))


def test_packing_joins_short_documents_and_cuts_long_ones():
    cls, sep = 101, 102
    packed = pack([[1, 2], [3], [4, 5, 6, 7, 8, 9, 10], [11]], max_seq_len=6, cls_id=cls, sep_id=sep)
    assert packed == [[cls, 1, 2, sep, 3, sep], [cls, 4, 5, 6, 7, sep], [cls, 8, 9, 10, sep], [cls, 11, sep]]
    assert all(len(s) <= 6 and s[0] == cls and s[-1] == sep for s in packed)
    flat = [t for s in packed for t in s if t not in (cls, sep)]
    assert flat == list(range(1, 12))  # nothing lost, order kept


def test_the_student_takes_the_mlm_head_and_matches_a_full_copy_of_the_teacher(mlm_teacher):
    teacher, with_head = load_teacher(str(mlm_teacher))
    assert with_head and has_mlm_head(str(mlm_teacher))
    student, mapping = build_mlm_student(teacher, 4)
    assert mapping == [0, 1, 2, 3]
    head = teacher.cls.predictions.transform.dense.weight
    assert torch.equal(student.vocab_transform.weight, head)
    assert student.vocab_projector.weight is student.distilbert.embeddings.word_embeddings.weight
    ids = torch.tensor([[2, 10, 11, 12, 3, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 0]])
    student.eval()
    with torch.no_grad():
        same = torch.allclose(student(input_ids=ids, attention_mask=mask).logits[:, :5],
                              teacher(input_ids=ids, attention_mask=mask).logits[:, :5], atol=1e-4)
    assert same  # with every layer copied, DistilBERT computes what BERT computes
    half, mapping = build_mlm_student(teacher, 2)
    assert mapping == [0, 3] and half.config.n_layers == 2


def test_an_encoder_without_mlm_head_loads_as_it_is(encoder_teacher):
    teacher, with_head = load_teacher(str(encoder_teacher))
    assert not with_head and type(teacher).__name__ == "BertModel"
