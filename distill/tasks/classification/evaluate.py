"""Evaluate a PyTorch classifier on the validation split: accuracy, macro-F1 and latency."""

from __future__ import annotations

import numpy as np
import torch
from distill.evaluate import EvalConfig, cycled_latency, forward_batches, model_row
from distill.tasks.classification.data import Split
from distill.tasks.classification.metrics import classification_metrics


def _encode(tokenizer, texts: list[str], max_seq_len: int) -> dict[str, torch.Tensor]:
    return tokenizer(texts, truncation=True, max_length=max_seq_len, padding=True,
                     return_token_type_ids=False, return_tensors="pt")


def evaluate_model(name: str, model, tokenizer, split: Split, num_classes: int, max_seq_len: int,
                   config: EvalConfig) -> dict:
    """One row of report.json's `models` list."""
    def make_batch(indices: list[int]) -> dict[str, torch.Tensor]:
        return _encode(tokenizer, [split.texts[i] for i in indices], max_seq_len)

    outputs = forward_batches(model, len(split), config.batch_size, make_batch, f"evaluate {name}")
    logits = np.concatenate([out.logits.float().cpu().numpy() for _, out in outputs])
    metrics = classification_metrics(np.asarray(split.labels), logits.argmax(axis=-1), num_classes)
    return model_row(name, model, metrics, cycled_latency(model, len(split), make_batch, config))
