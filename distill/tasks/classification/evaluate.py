"""Evaluate a PyTorch classifier on the validation split: accuracy, macro-F1 and latency."""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from distill.evaluate import EvalConfig, device_of, model_row, time_batches
from distill.tasks.classification.data import Split
from distill.tasks.classification.metrics import classification_metrics


def _encode(tokenizer, texts: list[str], max_seq_len: int) -> dict[str, torch.Tensor]:
    return tokenizer(texts, truncation=True, max_length=max_seq_len, padding=True,
                     return_token_type_ids=False, return_tensors="pt")


@torch.inference_mode()
def predict_logits(model, tokenizer, texts: list[str], max_seq_len: int, batch_size: int,
                   desc: str = "predict") -> np.ndarray:
    model.eval()
    device = device_of(model)
    chunks = []
    for start in tqdm(range(0, len(texts), batch_size), desc=desc, leave=False):
        batch = _encode(tokenizer, texts[start:start + batch_size], max_seq_len)
        chunks.append(model(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu().numpy())
    return np.concatenate(chunks)


def latency_ms(model, tokenizer, texts: list[str], max_seq_len: int, config: EvalConfig) -> dict[str, float]:
    """Median forward time per batch size; every model gets the same texts in the same batches."""
    batches = {size: _encode(tokenizer, [texts[i % len(texts)] for i in range(size)], max_seq_len)
               for size in config.latency_batch_sizes}
    return time_batches(model, batches, config.latency)


def evaluate_model(name: str, model, tokenizer, split: Split, num_classes: int, max_seq_len: int,
                   config: EvalConfig) -> dict:
    """One row of report.json's `models` list."""
    logits = predict_logits(model, tokenizer, split.texts, max_seq_len, config.batch_size, desc=f"evaluate {name}")
    metrics = classification_metrics(np.asarray(split.labels), logits.argmax(axis=-1), num_classes)
    return model_row(name, model, metrics, latency_ms(model, tokenizer, split.texts, max_seq_len, config))
