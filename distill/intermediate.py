"""Intermediate-layer distillation: the student imitates what the teacher's layers compute, not only
its outputs.

- `tinybert` (Jiao et al. 2020, TinyBERT): for each student layer and the teacher layer it stands
  for (`distill.student.block_ends`: [0, 2, 4] of 6 layers -> teacher layers 2, 4, 6), the mean
  squared error of the attention scores (QK^T / sqrt(d), before the softmax, real query and key
  positions) and of the layer outputs (real tokens), plus the embeddings' output.
- `minilm` (Wang et al. 2020, MiniLM): the last student layer against the teacher's last layer,
  KL(teacher || student) of the self-attention distributions softmax(QK^T / sqrt(d)) and of the
  value relations softmax(VV^T / sqrt(d)), per head and real query position, padded keys excluded.

Query, key and value are read from the attention projections with forward hooks
(`ProjectionCapture`), so the attention implementation (eager, SDPA, flash) does not matter.
Teacher and student must have the same number of heads (a student built from the teacher has).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from distill.losses import hidden_mse_loss
from distill.student import block_ends

KINDS = ("none", "tinybert", "minilm")
MASKED = -1e4  # score of a padded key: no probability left for it after the softmax


@dataclass(frozen=True)
class IntermediateConfig:
    kind: str = "none"  # one of KINDS
    alpha: float = 1.0  # weight of the intermediate term in the distillation loss

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"intermediate distillation must be one of {', '.join(KINDS)}, got {self.kind!r}")

    @property
    def on(self) -> bool:
        return self.kind != "none" and self.alpha > 0


def projections(model: torch.nn.Module) -> list[tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]]:
    """(query, key, value) projection modules of every layer, bottom up: BERT or DistilBERT."""
    base = model.base_model
    if hasattr(base, "encoder"):
        return [(a.self.query, a.self.key, a.self.value) for a in (layer.attention for layer in base.encoder.layer)]
    return [(a.q_lin, a.k_lin, a.v_lin) for a in (layer.attention for layer in base.transformer.layer)]


class ProjectionCapture:
    """Within `with capture:`, the query, key and value of the chosen layers' forward passes, each
    (batch, heads, tokens, head size), in `captured[layer] = (q, k, v)`."""

    def __init__(self, model: torch.nn.Module, layers: list[int]):
        self.model, self.layers, self.heads = model, layers, model.config.num_attention_heads
        self.captured: dict[int, list[torch.Tensor | None]] = {}
        self._handles: list = []

    def _hook(self, layer: int, slot: int):
        def keep(module, inputs, output):
            batch, tokens, width = output.shape
            split = output.view(batch, tokens, self.heads, width // self.heads).transpose(1, 2)
            self.captured.setdefault(layer, [None, None, None])[slot] = split
        return keep

    def __enter__(self) -> ProjectionCapture:
        modules = projections(self.model)
        for layer in self.layers:
            for slot, module in enumerate(modules[layer]):
                self._handles.append(module.register_forward_hook(self._hook(layer, slot)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def scores(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a b^T / sqrt(head size): (batch, heads, tokens, tokens), in float32."""
    return a.float() @ b.float().transpose(-1, -2) / math.sqrt(a.shape[-1])


def attention_score_loss(student: torch.Tensor, teacher: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error of two score tensors over real (query, key) pairs and heads."""
    real = attention_mask.float()
    pairs = (real[:, :, None] * real[:, None, :])[:, None]  # (batch, 1, tokens, tokens)
    error = ((student - teacher) ** 2) * pairs
    return error.sum() / (pairs.sum() * student.shape[1]).clamp(min=1.0)


def relation_kl(student: torch.Tensor, teacher: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """KL(softmax(teacher) || softmax(student)) over the keys, padded keys masked, averaged over
    heads and real query positions."""
    keys = (attention_mask == 0)[:, None, None, :]
    log_s = F.log_softmax(student.masked_fill(keys, MASKED), dim=-1)
    log_t = F.log_softmax(teacher.masked_fill(keys, MASKED), dim=-1)
    per_query = (log_t.exp() * (log_t - log_s)).sum(-1)  # (batch, heads, tokens)
    queries = attention_mask.float()[:, None, :]
    return (per_query * queries).sum() / (queries.sum() * student.shape[1]).clamp(min=1.0)


def layer_pairs(config: IntermediateConfig, layer_map: list[int], teacher_layers: int) -> list[tuple[int, int]]:
    """(student layer, teacher layer) pairs the attention terms compare, 0-based."""
    if config.kind == "minilm":
        return [(len(layer_map) - 1, teacher_layers - 1)]
    return [(k, end - 1) for k, end in enumerate(block_ends(layer_map, teacher_layers))]


def intermediate_loss(config: IntermediateConfig, pairs: list[tuple[int, int]], student: ProjectionCapture,
                      teacher: ProjectionCapture, attention_mask: torch.Tensor,
                      hidden: tuple[list[torch.Tensor], list[torch.Tensor]] | None = None) -> torch.Tensor:
    """The configured term: TinyBERT's score and hidden-state MSE (`hidden`: student and mapped
    teacher hidden states, embeddings first), or MiniLM's attention and value-relation KL."""
    terms = []
    for s_layer, t_layer in pairs:
        (sq, sk, sv), (tq, tk, tv) = student.captured[s_layer], teacher.captured[t_layer]
        if config.kind == "tinybert":
            terms.append(attention_score_loss(scores(sq, sk), scores(tq, tk), attention_mask))
        else:
            terms.append(relation_kl(scores(sq, sk), scores(tq, tk), attention_mask)
                         + relation_kl(scores(sv, sv), scores(tv, tv), attention_mask))
    total = torch.stack(terms).mean()
    if config.kind == "tinybert" and hidden is not None:
        total = total + hidden_mse_loss(*hidden, attention_mask)
    return total


@contextlib.contextmanager
def captured(config: IntermediateConfig, student_model, teacher_model, pairs: list[tuple[int, int]]):
    """Both models' projections of the paired layers, captured during the block (nothing when off)."""
    if not config.on:
        yield None, None
        return
    with ProjectionCapture(student_model, [s for s, _ in pairs]) as s, \
            ProjectionCapture(teacher_model, [t for _, t in pairs]) as t:
        yield s, t
