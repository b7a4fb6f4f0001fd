"""The span head: the teacher as an extractive question-answering model (a new, untrained head when
it has none), and a DistilBERT span student that takes the teacher's head when its shape fits."""

from __future__ import annotations

import torch
from transformers import AutoModelForQuestionAnswering, DistilBertForQuestionAnswering, PreTrainedModel

from distill.student import initialise_student
from distill.teacher import architectures, teacher_config


def has_span_head(location: str) -> bool:
    """True when the teacher already is an extractive question-answering model."""
    return any(a.endswith("ForQuestionAnswering") for a in architectures(location))


def load_question_answerer(location: str) -> PreTrainedModel:
    """The teacher with a start/end span head (a new, untrained one when it has none)."""
    teacher_config(location)
    return AutoModelForQuestionAnswering.from_pretrained(location)


def span_head_weights(teacher: PreTrainedModel, student: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The teacher's `qa_outputs` entries, when their shapes fit the student's."""
    head, own = teacher.state_dict(), student.state_dict()
    return {name: head[name].detach().clone() for name in ("qa_outputs.weight", "qa_outputs.bias")
            if name in head and head[name].shape == own[name].shape}


def build_span_student(teacher: PreTrainedModel, student_layers: int) -> tuple[DistilBertForQuestionAnswering, list[int]]:
    """A DistilBERT question-answering student initialised from `teacher` (a BERT encoder, with or
    without a span head); returns it with the layer map used."""
    return initialise_student(teacher, student_layers, DistilBertForQuestionAnswering, None, span_head_weights)
