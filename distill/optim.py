"""Layer-wise learning-rate decay (Clark et al. 2020, ELECTRA; Howard and Ruder 2018's
discriminative fine-tuning): the task head and the top layer learn at the full rate, each layer
below at `decay` times the rate of the one above, the embeddings lowest. With decay 1 every
parameter gets the same rate (the plain optimiser)."""

from __future__ import annotations

import re

import torch

_LAYER = re.compile(r"\.layer\.(\d+)\.")  # BERT encoder.layer.i, DistilBERT transformer.layer.i


def layer_depth(name: str, layers: int) -> int:
    """0 for the embeddings, i + 1 for layer i, layers + 1 for what sits above them (heads, pooler)."""
    if "embeddings" in name:
        return 0
    found = _LAYER.search(name)
    return int(found.group(1)) + 1 if found else layers + 1


def layerwise_groups(model: torch.nn.Module, learning_rate: float, decay: float, weight_decay: float,
                     decayed: set[str]) -> list[dict]:
    """Optimiser parameter groups, one per (depth, weight decay or not), each with its own `lr`:
    learning_rate x decay^(top depth - depth). `decayed`: names that take weight decay."""
    layers = model.config.num_hidden_layers
    groups: dict[tuple[int, bool], dict] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        depth, with_decay = layer_depth(name, layers), name in decayed
        group = groups.setdefault((depth, with_decay), {
            "params": [], "weight_decay": weight_decay if with_decay else 0.0,
            "lr": learning_rate * decay ** (layers + 1 - depth)})
        group["params"].append(parameter)
    return [groups[key] for key in sorted(groups)]
