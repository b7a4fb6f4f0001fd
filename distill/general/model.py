"""The models of general distillation: the teacher as it was pretrained (with its masked-LM head
when it has one, else the bare encoder) and a `DistilBertForMaskedLM` student initialised from it:
embeddings, the mapped layers, and the teacher's MLM head (transform, layer norm, output bias; the
output weights stay tied to the word embeddings)."""

from __future__ import annotations

import torch
from transformers import AutoModel, AutoModelForMaskedLM, DistilBertForMaskedLM, PreTrainedModel

from distill.student import initialise_student
from distill.teacher import architectures

MLM_ARCHITECTURES = ("ForMaskedLM", "ForPreTraining")
# BERT's MLM head (under cls.predictions.) -> DistilBertForMaskedLM's names
HEAD_MAP = {
    "transform.dense.weight": "vocab_transform.weight",
    "transform.dense.bias": "vocab_transform.bias",
    "transform.LayerNorm.weight": "vocab_layer_norm.weight",
    "transform.LayerNorm.bias": "vocab_layer_norm.bias",
    "bias": "vocab_projector.bias",
}


def has_mlm_head(location: str) -> bool:
    return any(a.endswith(MLM_ARCHITECTURES) for a in architectures(location))


def load_teacher(location: str) -> tuple[PreTrainedModel, bool]:
    """The teacher, frozen in eval mode, and whether it has a masked-LM head."""
    with_head = has_mlm_head(location)
    model = (AutoModelForMaskedLM if with_head else AutoModel).from_pretrained(location)
    return model.eval(), with_head


def mlm_head_weights(teacher: PreTrainedModel, student: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The teacher's MLM head under the student's names (nothing when it has none)."""
    source = teacher.state_dict()
    prefix = "cls.predictions."
    return {target: source[prefix + name].detach().clone() for name, target in HEAD_MAP.items()
            if prefix + name in source}


def build_mlm_student(teacher: PreTrainedModel, layers: int) -> tuple[DistilBertForMaskedLM, list[int]]:
    """A DistilBERT masked-LM student from `teacher` (layer map as for every task student)."""
    return initialise_student(teacher, layers, DistilBertForMaskedLM, None, mlm_head_weights)
