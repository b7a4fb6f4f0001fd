"""Evaluate a PyTorch classifier on the validation split: quality, size and inference latency."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from distill.data import Split
from distill.latency import LatencyConfig, measure
from distill.tasks.classification import classification_metrics


@dataclass(frozen=True)
class EvalConfig:
    max_seq_len: int = 128
    batch_size: int = 64  # for the accuracy pass
    latency_batch_sizes: tuple[int, ...] = (1, 32)
    latency: LatencyConfig = LatencyConfig()


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _encode(tokenizer, texts: list[str], max_seq_len: int) -> dict[str, torch.Tensor]:
    return tokenizer(texts, truncation=True, max_length=max_seq_len, padding=True,
                     return_token_type_ids=False, return_tensors="pt")


@torch.inference_mode()
def predict_logits(model, tokenizer, texts: list[str], config: EvalConfig, desc: str = "predict") -> np.ndarray:
    model.eval()
    device = next(model.parameters()).device
    chunks = []
    for start in tqdm(range(0, len(texts), config.batch_size), desc=desc, leave=False):
        batch = _encode(tokenizer, texts[start:start + config.batch_size], config.max_seq_len)
        chunks.append(model(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu().numpy())
    return np.concatenate(chunks)


def latency_ms(model, tokenizer, texts: list[str], config: EvalConfig) -> dict[str, float]:
    """Median forward time per batch size; every model gets the same texts in the same batches."""
    batches = {size: _encode(tokenizer, [texts[i % len(texts)] for i in range(size)], config.max_seq_len)
               for size in config.latency_batch_sizes}
    return time_batches(model, batches, config.latency)


def time_batches(model, batches: dict[int, dict[str, torch.Tensor]], latency: LatencyConfig) -> dict[str, float]:
    """Median forward time (ms) of `model` on each batch, keyed by batch size as a string."""
    model.eval()
    device = next(model.parameters()).device
    result = {}
    for size, encoded in batches.items():
        batch = {k: v.to(device) for k, v in encoded.items()}

        def call():
            with torch.inference_mode():
                model(**batch)
            if device.type == "cuda":
                torch.cuda.synchronize()

        result[str(size)] = round(measure(call, latency).median_ms, 3)
    return result


def evaluate_model(name: str, model, tokenizer, split: Split, num_classes: int, config: EvalConfig) -> dict:
    """One row of report.json's `models` list."""
    logits = predict_logits(model, tokenizer, split.texts, config, desc=f"evaluate {name}")
    metrics = classification_metrics(np.asarray(split.labels), logits.argmax(axis=-1), num_classes)
    return {
        "name": name,
        "accuracy": round(metrics["accuracy"], 6),
        "macro_f1": round(metrics["macro_f1"], 6),
        "parameters": parameter_count(model),
        "size_bytes": None,
        "latency_ms": latency_ms(model, tokenizer, split.texts, config),
    }
