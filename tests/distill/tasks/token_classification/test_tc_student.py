"""The tagging student: built from a BERT teacher (its classifier taken when the tags match) or
from a general student's encoder (`--student-init`)."""

import torch
from transformers import BertForTokenClassification, DistilBertConfig, DistilBertForMaskedLM

from distill.tasks.token_classification.data import TokenData
from distill.tasks.token_classification.models import build_tagger_student, label_kwargs
from distill.tasks.token_classification.task import TokenClassificationTask
from tests import tiny

TAGS = ["O", "B-PER", "I-PER"]


def _teacher(tags):
    config = tiny.bert_config(40, layers=4)
    config.update(label_kwargs(tags))
    torch.manual_seed(0)
    return BertForTokenClassification(config)


def test_the_teacher_classifier_is_copied_when_the_tags_match():
    teacher = _teacher(TAGS)
    student, mapping = build_tagger_student(teacher, 2, TAGS)
    assert mapping == [0, 3] and type(student).__name__ == "DistilBertForTokenClassification"
    assert torch.equal(student.classifier.weight, teacher.classifier.weight)
    assert [student.config.id2label[i] for i in range(3)] == TAGS


def test_a_teacher_with_other_tags_leaves_the_student_head_new():
    teacher = _teacher(["O", "B-LOC", "I-LOC"])
    student, _ = build_tagger_student(teacher, 2, TAGS)
    assert not torch.equal(student.classifier.weight, teacher.classifier.weight)
    assert torch.equal(student.distilbert.embeddings.word_embeddings.weight, teacher.bert.embeddings.word_embeddings.weight)


def test_a_general_student_gives_its_encoder_and_a_new_head(tmp_path):
    torch.manual_seed(0)
    general = DistilBertForMaskedLM(DistilBertConfig(vocab_size=40, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                                                     max_position_embeddings=64))
    general.save_pretrained(str(tmp_path))
    data = TokenData([], [], TAGS, "IOB2")
    student = TokenClassificationTask().student_from(str(tmp_path), data)
    assert type(student).__name__ == "DistilBertForTokenClassification" and student.config.num_labels == 3
    assert torch.equal(student.distilbert.transformer.layer[1].ffn.lin1.weight,
                       general.distilbert.transformer.layer[1].ffn.lin1.weight)
