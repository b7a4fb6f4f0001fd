"""Evaluate a PyTorch text model on a validation split: its outputs (logits) and its latency; the
task turns the outputs into its quality metrics. Each model gets the inputs its `forward` takes."""

from __future__ import annotations

import numpy as np
import torch

from distill.evaluate import EvalConfig, cycled_latency, forward_batches
from distill.student import model_inputs
from distill.tasks.text.data import Split
from distill.tasks.text.features import encode


def predict(name: str, model, tokenizer, split: Split, max_seq_len: int,
            config: EvalConfig) -> tuple[np.ndarray, dict[str, float]]:
    """(logits [examples, outputs], median latency in ms per batch size) of `model` on `split`."""
    def make_batch(indices: list[int]) -> dict[str, torch.Tensor]:
        return model_inputs(model, encode(tokenizer, split, max_seq_len, indices, padding=True, return_tensors="pt"))

    outputs = forward_batches(model, len(split), config.batch_size, make_batch, f"evaluate {name}")
    logits = np.concatenate([out.logits.float().cpu().numpy() for _, out in outputs])
    return logits, cycled_latency(model, len(split), make_batch, config)
