"""The regression heads: a sequence-classification head with one output (`problem_type`
"regression", its own loss MSE), for the teacher (a new one starting at the mean training score)
and the DistilBERT student. The student's head is
initialised like a classifier's (the teacher's pooler as pre-classifier, and the teacher's
one-output head when it has one)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
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


def load_regressor(location: str, head: str = "auto", scores: Sequence[float] = ()) -> PreTrainedModel:
    """The teacher with a one-output head (a new `head` when it has none, `distill.tasks.text.heads`).
    A new head starts at the mean of the training `scores` (its bias): AdamW moves each weight by
    about the learning rate per step, so a head starting at 0 spends its first hundred steps
    reaching scores around 2.5 (STS-B), and the encoder is pushed hard meanwhile."""
    if has_regression_head(location):
        return load_sequence_model(location, problem_type="regression")
    model = head_class(choose_head(head, location)).from_pretrained(location, ignore_mismatched_sizes=True, **HEAD)
    if len(scores):
        with torch.no_grad():
            model.classifier.bias.fill_(float(sum(scores)) / len(scores))
    return model


def build_student(teacher: PreTrainedModel, layers: int) -> tuple[PreTrainedModel, list[int]]:
    student, mapping = build_classifier_student(teacher, layers, [OUTPUT_NAME])
    student.config.problem_type = "regression"
    return student, mapping


def student_from(general_student: str) -> PreTrainedModel:
    return DistilBertForSequenceClassification.from_pretrained(general_student, **HEAD)
