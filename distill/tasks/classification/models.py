"""The classification heads: the teacher as a sequence classifier over the data's labels (a new
head when it has none or other labels: over the [CLS] pooler or the mean token state, as
`distill.tasks.text.heads` chooses), and a DistilBERT student with the teacher's pooler (when it
has one) as its pre-classifier and the teacher's classifier when the labels match."""

from __future__ import annotations

import torch
from transformers import DistilBertForSequenceClassification, PreTrainedModel

from distill.student import initialise_student
from distill.tasks.text.heads import CONFIG_KEY, choose_head, head_class, load_sequence_model
from distill.teacher import teacher_config


def needs_finetuning(location: str, label_names: list[str]) -> bool:
    """True when the teacher has no classification head or its labels differ from the data's."""
    config = teacher_config(location)
    if not any(a.endswith("ForSequenceClassification") for a in config.architectures or []):
        return True
    return [config.id2label[i] for i in range(config.num_labels)] != list(label_names)


def load_classifier(location: str, label_names: list[str], head: str = "auto") -> PreTrainedModel:
    """The teacher as a sequence classifier over `label_names` (a new `head` when it has none)."""
    if not needs_finetuning(location, label_names):
        return load_sequence_model(location)
    return head_class(choose_head(head, location)).from_pretrained(
        location, num_labels=len(label_names), id2label=dict(enumerate(label_names)),
        label2id={name: i for i, name in enumerate(label_names)}, ignore_mismatched_sizes=True)


def has_matching_head(teacher: PreTrainedModel, label_names: list[str]) -> bool:
    """True when the teacher is a sequence classifier whose labels are exactly `label_names`."""
    if not hasattr(teacher, "classifier"):
        return False
    names = [teacher.config.id2label[i] for i in range(teacher.config.num_labels)]
    return names == list(label_names)


def head_weights(label_names: list[str]):
    """For `initialise_student`: the teacher's pooler as the pre-classifier, and its classifier
    when its labels are the student's; nothing from a teacher whose head reads the mean token state
    (the student's head reads its [CLS] state, which the exported model folder's graph computes)."""
    def weights(teacher: PreTrainedModel, student: PreTrainedModel) -> dict[str, torch.Tensor]:
        if getattr(teacher.config, CONFIG_KEY, None) == "mean":
            return {}  # a head over the mean token state: the student's [CLS] head learns its own
        source = teacher.base_model.state_dict()
        out = {}
        if "pooler.dense.weight" in source:
            out["pre_classifier.weight"] = source["pooler.dense.weight"].detach().clone()
            out["pre_classifier.bias"] = source["pooler.dense.bias"].detach().clone()
        if has_matching_head(teacher, label_names):
            head = teacher.state_dict()
            out["classifier.weight"] = head["classifier.weight"].detach().clone()
            out["classifier.bias"] = head["classifier.bias"].detach().clone()
        return out

    return weights


def build_student(teacher: PreTrainedModel, student_layers: int,
                  label_names: list[str]) -> tuple[DistilBertForSequenceClassification, list[int]]:
    """A DistilBERT classifier initialised from `teacher`; returns it with the layer map used."""
    return initialise_student(teacher, student_layers, DistilBertForSequenceClassification, label_names,
                              head_weights(label_names))
