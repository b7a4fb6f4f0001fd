"""The span student is initialised from the teacher as the classifier is, with its span head."""

import torch
from transformers import BertForQuestionAnswering, BertModel

from distill.tasks.question_answering.models import build_span_student
from tests import tiny


def _teacher(head: bool, layers: int = 4):
    torch.manual_seed(0)
    config = tiny.bert_config(64, layers)
    return (BertForQuestionAnswering(config) if head else BertModel(config)).eval()


def test_a_full_depth_student_reproduces_the_teacher_span_logits():
    teacher = _teacher(head=True)
    student, mapping = build_span_student(teacher, 4)
    assert mapping == [0, 1, 2, 3] and type(student).__name__ == "DistilBertForQuestionAnswering"
    ids = torch.tensor([[2, 10, 11, 3, 20, 21, 22, 3, 0, 0]])
    mask = (ids != 0).long()
    with torch.no_grad():
        expected = teacher(input_ids=ids, attention_mask=mask)
        got = student.eval()(input_ids=ids, attention_mask=mask)
    torch.testing.assert_close(got.start_logits, expected.start_logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got.end_logits, expected.end_logits, atol=1e-5, rtol=1e-5)


def test_half_depth_student_takes_mapped_layers_and_the_head():
    teacher = _teacher(head=True)
    student, mapping = build_span_student(teacher, 2)
    assert mapping == [0, 3]
    torch.testing.assert_close(student.qa_outputs.weight, teacher.qa_outputs.weight)
    torch.testing.assert_close(student.distilbert.transformer.layer[1].attention.q_lin.weight,
                               teacher.bert.encoder.layer[3].attention.self.query.weight)


def test_a_headless_teacher_leaves_a_fresh_head():
    student, _ = build_span_student(_teacher(head=False), 2)
    assert student.qa_outputs.weight.shape == (2, 32)
