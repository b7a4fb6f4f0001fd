"""The DistilBERT student: its config derived from a BERT teacher, and its weights copied from the
teacher's embeddings, a chosen subset of its layers (the layer map), and its head where it fits.
"""

from __future__ import annotations

import torch
from transformers import (
    BertConfig, DistilBertConfig, DistilBertForQuestionAnswering, DistilBertForSequenceClassification, PreTrainedModel,
)

# BERT parameter name (under encoder.layer.N.) -> DistilBERT name (under transformer.layer.M.)
LAYER_PARAMETER_MAP = {
    "attention.self.query": "attention.q_lin",
    "attention.self.key": "attention.k_lin",
    "attention.self.value": "attention.v_lin",
    "attention.output.dense": "attention.out_lin",
    "attention.output.LayerNorm": "sa_layer_norm",
    "intermediate.dense": "ffn.lin1",
    "output.dense": "ffn.lin2",
    "output.LayerNorm": "output_layer_norm",
}


class StudentError(ValueError):
    """A student that cannot be built from the given teacher."""


def layer_map(teacher_layers: int, student_layers: int) -> list[int]:
    """Which teacher layer initialises each student layer.

    Every `stride = n // k`-th layer from the bottom. When k is even the upper half is shifted up so
    that the last student layer starts from the teacher's last layer, as in the DistilBERT recipe
    (12 -> 6 gives [0, 2, 4, 7, 9, 11]); an odd k has no upper half to shift (6 -> 3 gives [0, 2, 4]).
    """
    if not 1 <= student_layers <= teacher_layers:
        raise StudentError(f"student layers must be between 1 and {teacher_layers}, got {student_layers}")
    stride = teacher_layers // student_layers
    picks = [stride * i for i in range(student_layers)]
    if student_layers % 2 == 0:
        slack = teacher_layers - 1 - picks[-1]
        half = student_layers // 2
        picks = picks[:half] + [p + slack for p in picks[half:]]
    return picks


def student_config(teacher: BertConfig, student_layers: int, label_names: list[str] | None) -> DistilBertConfig:
    """A DistilBERT config with the teacher's widths, vocabulary, positions, activation and dropout."""
    if getattr(teacher, "position_embedding_type", "absolute") != "absolute":
        raise StudentError("only teachers with absolute position embeddings can initialise a DistilBERT student")
    classifier_dropout = getattr(teacher, "classifier_dropout", None)
    labels = {} if label_names is None else {
        "num_labels": len(label_names), "id2label": dict(enumerate(label_names)),
        "label2id": {name: i for i, name in enumerate(label_names)},
    }
    return DistilBertConfig(
        vocab_size=teacher.vocab_size,
        max_position_embeddings=teacher.max_position_embeddings,
        n_layers=student_layers,
        n_heads=teacher.num_attention_heads,
        dim=teacher.hidden_size,
        hidden_dim=teacher.intermediate_size,
        activation=teacher.hidden_act,
        dropout=teacher.hidden_dropout_prob,
        attention_dropout=teacher.attention_probs_dropout_prob,
        seq_classif_dropout=teacher.hidden_dropout_prob if classifier_dropout is None else classifier_dropout,
        qa_dropout=teacher.hidden_dropout_prob if classifier_dropout is None else classifier_dropout,
        pad_token_id=teacher.pad_token_id,
        initializer_range=teacher.initializer_range,
        **labels,
    )


def mapped_teacher_weights(teacher: PreTrainedModel, mapping: list[int], head_matches: bool) -> dict[str, torch.Tensor]:
    """The student classifier's state-dict entries (DistilBERT names) from the teacher's weights."""
    source = teacher.base_model.state_dict()
    out = encoder_weights(teacher, mapping)
    if "pooler.dense.weight" in source:
        out["pre_classifier.weight"] = source["pooler.dense.weight"].detach().clone()
        out["pre_classifier.bias"] = source["pooler.dense.bias"].detach().clone()
    if head_matches:
        head = teacher.state_dict()
        out["classifier.weight"] = head["classifier.weight"].detach().clone()
        out["classifier.bias"] = head["classifier.bias"].detach().clone()
    return out


def encoder_weights(teacher: PreTrainedModel, mapping: list[int]) -> dict[str, torch.Tensor]:
    """Embeddings (token type 0 folded into the positions) and the mapped layers, DistilBERT names."""
    source = {k: v.detach().clone() for k, v in teacher.base_model.state_dict().items()}
    emb = "embeddings."
    out = {
        "distilbert.embeddings.word_embeddings.weight": source[emb + "word_embeddings.weight"],
        # DistilBERT has no token types: fold type 0 into the positions so word+pos == word+pos+type0.
        "distilbert.embeddings.position_embeddings.weight": source[emb + "position_embeddings.weight"]
        + source[emb + "token_type_embeddings.weight"][0],
        "distilbert.embeddings.LayerNorm.weight": source[emb + "LayerNorm.weight"],
        "distilbert.embeddings.LayerNorm.bias": source[emb + "LayerNorm.bias"],
    }
    for student_index, teacher_index in enumerate(mapping):
        for bert_name, distil_name in LAYER_PARAMETER_MAP.items():
            for kind in ("weight", "bias"):
                out[f"distilbert.transformer.layer.{student_index}.{distil_name}.{kind}"] = source[
                    f"encoder.layer.{teacher_index}.{bert_name}.{kind}"
                ]
    return out


def has_matching_head(teacher: PreTrainedModel, label_names: list[str]) -> bool:
    """True when the teacher is a sequence classifier whose labels are exactly `label_names`."""
    if not hasattr(teacher, "classifier"):
        return False
    names = [teacher.config.id2label[i] for i in range(teacher.config.num_labels)]
    return names == list(label_names)


def build_student(
    teacher: PreTrainedModel, student_layers: int, label_names: list[str]
) -> tuple[DistilBertForSequenceClassification, list[int]]:
    """A DistilBERT student initialised from `teacher`; returns it with the layer map used."""
    mapping = layer_map(teacher.config.num_hidden_layers, student_layers)
    student = DistilBertForSequenceClassification(student_config(teacher.config, student_layers, label_names))
    _load(student, mapped_teacher_weights(teacher, mapping, has_matching_head(teacher, label_names)))
    return student, mapping


def build_span_student(teacher: PreTrainedModel, student_layers: int) -> tuple[DistilBertForQuestionAnswering, list[int]]:
    """A DistilBERT question-answering student initialised from `teacher` (a BERT encoder, with or
    without a span head); the teacher's `qa_outputs` head is copied when its shape fits."""
    mapping = layer_map(teacher.config.num_hidden_layers, student_layers)
    student = DistilBertForQuestionAnswering(student_config(teacher.config, student_layers, None))
    weights = encoder_weights(teacher, mapping)
    head = teacher.state_dict()
    for kind in ("weight", "bias"):
        name = f"qa_outputs.{kind}"
        if name in head and head[name].shape == student.state_dict()[name].shape:
            weights[name] = head[name].detach().clone()
    _load(student, weights)
    return student, mapping


def _load(student: PreTrainedModel, weights: dict[str, torch.Tensor]) -> None:
    missing = set(weights) - set(student.state_dict())
    if missing:
        raise ValueError(f"student has no parameters named {sorted(missing)}")
    student.load_state_dict(weights, strict=False)
