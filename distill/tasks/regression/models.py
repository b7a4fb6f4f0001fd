"""The regression heads: a sequence-classification head with one output (`problem_type`
"regression", its own loss MSE), for the teacher and the DistilBERT student. The student's head is
initialised like a classifier's (the teacher's pooler as pre-classifier, and the teacher's
one-output head when it has one)."""

from __future__ import annotations

from transformers import DistilBertForSequenceClassification, PreTrainedModel

from distill.tasks.classification.models import build_student as build_classifier_student
from distill.tasks.text.heads import choose_head, head_class, load_sequence_model
from distill.teacher import teacher_config

OUTPUT_NAME = "score"  # the one output's name in the models' config (id2label)
HEAD = {"num_labels": 1, "problem_type": "regression", "id2label": {0: OUTPUT_NAME}, "label2id": {OUTPUT_NAME: 0}}


def has_regression_head(location: str) -> bool:
    config = teacher_config(location)
    is_head = any(a.endswith("ForSequenceClassification") for a in config.architectures or [])
    return is_head and config.num_labels == 1


def load_regressor(location: str, head: str = "auto") -> PreTrainedModel:
    """The teacher with a one-output head (a new `head` when it has none, `distill.tasks.text.heads`)."""
    if has_regression_head(location):
        return load_sequence_model(location, problem_type="regression")
    return head_class(choose_head(head, location)).from_pretrained(location, ignore_mismatched_sizes=True, **HEAD)


def build_student(teacher: PreTrainedModel, layers: int) -> tuple[PreTrainedModel, list[int]]:
    student, mapping = build_classifier_student(teacher, layers, [OUTPUT_NAME])
    student.config.problem_type = "regression"
    return student, mapping


def student_from(general_student: str) -> PreTrainedModel:
    return DistilBertForSequenceClassification.from_pretrained(general_student, **HEAD)
