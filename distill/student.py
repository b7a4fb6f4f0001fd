"""The DistilBERT student of any task: its config derived from a BERT teacher, and its weights
copied from the teacher's embeddings, a chosen subset of its layers (the layer map), and, through
the task's `head_weights`, its head where it fits; and the entries of a batch a model's `forward`
takes (the student has no token types, a BERT teacher of text pairs uses them).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import torch
from transformers import BertConfig, DistilBertConfig, PreTrainedModel

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


def layer_map(teacher_layers: int, student_layers: int | Sequence[int], keep_last: bool = False) -> list[int]:
    """Which teacher layer initialises each student layer: the given ascending teacher layers, or

    every `stride = n // k`-th layer from the bottom. When k is even the upper half is shifted up so
    that the last student layer starts from the teacher's last layer, as in the DistilBERT recipe
    (12 -> 6 gives [0, 2, 4, 7, 9, 11]); an odd k has no upper half to shift (6 -> 3 gives [0, 2, 4])
    unless `keep_last`, when the layers above the middle one are shifted up too (6 -> 3 gives [0, 3, 5]).
    """
    if not isinstance(student_layers, int):
        picks = [int(i) for i in student_layers]
        if not picks or picks != sorted(set(picks)) or picks[0] < 0 or picks[-1] >= teacher_layers:
            raise StudentError(f"student layers {picks} must be ascending teacher layers between 0 and "
                               f"{teacher_layers - 1}")
        return picks
    if not 1 <= student_layers <= teacher_layers:
        raise StudentError(f"student layers must be between 1 and {teacher_layers}, got {student_layers}")
    stride = teacher_layers // student_layers
    picks = [stride * i for i in range(student_layers)]
    if student_layers % 2 == 0 or (keep_last and student_layers > 1):
        slack = teacher_layers - 1 - picks[-1]
        half = student_layers // 2
        picks = picks[:half] + [p + slack for p in picks[half:]]
    return picks


def block_ends(mapping: list[int], teacher_layers: int) -> list[int]:
    """The teacher hidden state each student layer's output should match (an index into
    `hidden_states`, 0 being the embeddings): student layer k starts as teacher layer mapping[k] and
    stands for the teacher's layers up to the next mapped one, so its output is aligned with the
    teacher's output just before that layer, which is the input the next copied layer was trained
    on; the last student layer is aligned with the teacher's last (whose output the copied task
    head reads). [0, 2, 4] of 6 layers gives [2, 4, 6]; [0, 2, 4, 7, 9, 11] of 12 gives
    [2, 4, 7, 9, 11, 12]."""
    return [*mapping[1:], teacher_layers]


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


def encoder_weights(teacher: PreTrainedModel, mapping: list[int]) -> dict[str, torch.Tensor]:
    """Embeddings (token type 0 folded into the positions) and the mapped layers, DistilBERT names."""
    source = {k: v.detach().clone() for k, v in teacher.base_model.state_dict().items()}
    emb = "embeddings."
    out = {
        "distilbert.embeddings.word_embeddings.weight": source[emb + "word_embeddings.weight"],
        # DistilBERT has no token types: fold type 0 into the positions so word+pos == word+pos+type0.
        # The second text of a pair (type 1 for the teacher) therefore starts out looking like type 0
        # to the student, which tells the texts apart by [SEP] and position only.
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


HeadWeights = Callable[[PreTrainedModel, PreTrainedModel], dict[str, torch.Tensor]]  # (teacher, student)


def initialise_student(teacher: PreTrainedModel, student_layers: int | Sequence[int], model_class: type[PreTrainedModel],
                       label_names: list[str] | None, head_weights: HeadWeights) -> tuple[PreTrainedModel, list[int]]:
    """A DistilBERT `model_class` initialised from `teacher`: embeddings, the mapped layers, and
    the head entries `head_weights(teacher, student)` gives; returns it with the layer map used."""
    mapping = layer_map(teacher.config.num_hidden_layers, student_layers)
    student = model_class(student_config(teacher.config, len(mapping), label_names))
    weights = encoder_weights(teacher, mapping)
    weights.update(head_weights(teacher, student))
    _load(student, weights)
    return student, mapping


def _load(student: PreTrainedModel, weights: dict[str, torch.Tensor]) -> None:
    missing = set(weights) - set(student.state_dict())
    if missing:
        raise ValueError(f"student has no parameters named {sorted(missing)}")
    student.load_state_dict(weights, strict=False)


def model_inputs(model, batch: dict) -> dict:
    """The entries of `batch` that `model.forward` takes (a DistilBERT student takes no token types)."""
    inner = getattr(model, "module", model)  # a model wrapped for distributed training
    accepted = inspect.signature(inner.forward).parameters
    return {key: value for key, value in batch.items() if key in accepted}
