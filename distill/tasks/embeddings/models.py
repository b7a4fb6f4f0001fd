"""The sentence encoder of the task: a transformer encoder (the BERT teacher, the DistilBERT
student) followed by the pooling, returning `embedding` [batch, dim] and, when asked, the
encoder's hidden states (for the hidden-state cosine of the distillation).

A saved embedder is the encoder's checkpoint plus the sentence-transformers description of its
pooling (`modules.json`, `1_Pooling/config.json`, a Normalize module when it normalises), so the
student folder declares its pooling exactly as the teacher's did and `load_embedder` (or the
sentence-transformers library) rebuilds the same embedder from it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import AutoModel, DistilBertModel, PreTrainedModel
from transformers.utils import ModelOutput

from distill.student import encoder_weights, layer_map, student_config
from distill.tasks.embeddings.pooling import Pooling, pool, read_pooling, write_pooling

PREFIX = "distilbert."  # the names `encoder_weights` gives, as in the task models with a head


@dataclass
class EmbeddingOutput(ModelOutput):
    embedding: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None


class SentenceEmbedder(torch.nn.Module):
    """`encoder` + `pooling`; `config` is the encoder's (heads, widths, pad id for the export)."""

    def __init__(self, encoder: PreTrainedModel, pooling: Pooling) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self._takes_types = "token_type_ids" in inspect.signature(encoder.forward).parameters

    @property
    def config(self):
        return self.encoder.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                output_hidden_states: bool = False, return_dict: bool = True) -> EmbeddingOutput:
        extra = {"token_type_ids": token_type_ids} if (self._takes_types and token_type_ids is not None) else {}
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=output_hidden_states,
                           return_dict=True, **extra)
        embedding = pool(out.last_hidden_state, attention_mask, self.pooling)
        return EmbeddingOutput(embedding=embedding, hidden_states=out.hidden_states if output_hidden_states else None)

    def save_pretrained(self, folder: str) -> None:
        self.encoder.save_pretrained(folder)
        write_pooling(folder, self.pooling, self.config.hidden_size)

    def settings(self) -> dict:
        """The manifest's `embedding` block (modelfolder.manifest.EmbeddingSettings)."""
        return {"dimension": int(self.config.hidden_size), "pooling": self.pooling.mode,
                "normalize": self.pooling.normalize}


def load_embedder(folder: str, **kwargs) -> SentenceEmbedder:
    """The encoder at `folder` (the encoder of a checkpoint with a head too) with its pooling."""
    return SentenceEmbedder(AutoModel.from_pretrained(folder, **kwargs), read_pooling(folder))


def build_student(teacher: SentenceEmbedder, layers: int | Sequence[int]) -> tuple[SentenceEmbedder, list[int]]:
    """A DistilBERT encoder initialised from the teacher's embeddings and mapped layers (`layers`:
    a count, or the teacher layers to take), with the teacher's pooling; returns it with the layer map."""
    # the pooled embedding is read from the last layer, so the student keeps the teacher's last one
    # (measured: 6 -> 3 as [0, 3, 5] against [0, 2, 4], docs/RESULTS.md "Sentence embeddings")
    mapping = layer_map(teacher.config.num_hidden_layers, layers, keep_last=True)
    encoder = DistilBertModel(student_config(teacher.config, len(mapping), None))
    weights = {name.removeprefix(PREFIX): value for name, value in encoder_weights(teacher.encoder, mapping).items()}
    missing = set(weights) - set(encoder.state_dict())
    if missing:
        raise ValueError(f"student encoder has no parameters named {sorted(missing)}")
    encoder.load_state_dict(weights, strict=False)
    return SentenceEmbedder(encoder, teacher.pooling), mapping


def student_from(general_student: str, pooling: Pooling) -> SentenceEmbedder:
    """The encoder of a general student (`distill general`) with the teacher's pooling."""
    return SentenceEmbedder(DistilBertModel.from_pretrained(general_student), pooling)
