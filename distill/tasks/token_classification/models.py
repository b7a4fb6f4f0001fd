"""The tagging head: the teacher as a token classifier over the data's tags (a new head when it has
none or other tags), and a DistilBERT student that takes the teacher's classifier when the tags match."""

from __future__ import annotations

import torch
from transformers import AutoModelForTokenClassification, DistilBertForTokenClassification, PreTrainedModel

from distill.student import initialise_student
from distill.teacher import teacher_config


def tag_names(config) -> list[str]:
    return [config.id2label[i] for i in range(config.num_labels)]


def label_kwargs(labels: list[str]) -> dict:
    return {"num_labels": len(labels), "id2label": dict(enumerate(labels)),
            "label2id": {name: i for i, name in enumerate(labels)}}


def has_tagging_head(location: str, labels: list[str]) -> bool:
    """True when the teacher is a token classifier over exactly `labels`, in that order."""
    config = teacher_config(location)
    heads = any(a.endswith("ForTokenClassification") for a in config.architectures or [])
    return heads and tag_names(config) == list(labels)


def load_tagger(location: str, labels: list[str]) -> PreTrainedModel:
    """The teacher as a token classifier over `labels` (a new, untrained head when it has none)."""
    if has_tagging_head(location, labels):
        return AutoModelForTokenClassification.from_pretrained(location)
    return AutoModelForTokenClassification.from_pretrained(location, ignore_mismatched_sizes=True,
                                                           **label_kwargs(labels))


def head_weights(labels: list[str]):
    """For `initialise_student`: the teacher's classifier, when its tags are the student's."""
    def weights(teacher: PreTrainedModel, student: PreTrainedModel) -> dict[str, torch.Tensor]:
        if not hasattr(teacher, "classifier") or tag_names(teacher.config) != list(labels):
            return {}
        head = teacher.state_dict()
        return {name: head[name].detach().clone() for name in ("classifier.weight", "classifier.bias")}

    return weights


def build_tagger_student(teacher: PreTrainedModel, student_layers: int,
                         labels: list[str]) -> tuple[DistilBertForTokenClassification, list[int]]:
    """A DistilBERT token classifier initialised from `teacher`; returns it with the layer map used."""
    return initialise_student(teacher, student_layers, DistilBertForTokenClassification, labels, head_weights(labels))
