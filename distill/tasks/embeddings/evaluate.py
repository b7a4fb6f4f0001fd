"""Evaluate PyTorch sentence embedders: each model's embeddings of the held-out sentences and of
the STS pairs, scored as the mean cosine to the teacher's embeddings and the STS Spearman."""

from __future__ import annotations

import numpy as np
import torch

from distill.evaluate import EvalConfig, cycled_latency, forward_batches, model_row
from distill.tasks.embeddings.data import EmbeddingData
from distill.tasks.embeddings.sts import mean_cosine, sts_spearman


def embed(name: str, model, tokenizer, sentences: list[str], max_seq_len: int, batch_size: int) -> np.ndarray:
    """[sentences, dim] embeddings of `model` (a `SentenceEmbedder`), in order."""
    def make_batch(indices: list[int]) -> dict[str, torch.Tensor]:
        return batch_of(tokenizer, [sentences[i] for i in indices], max_seq_len)

    outputs = forward_batches(model, len(sentences), batch_size, make_batch, f"embed with {name}")
    return np.concatenate([out.embedding.float().cpu().numpy() for _, out in outputs])


def batch_of(tokenizer, sentences: list[str], max_seq_len: int) -> dict[str, torch.Tensor]:
    encoded = tokenizer(sentences, truncation=True, max_length=max_seq_len, padding=True, return_tensors="pt")
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}


def quality(embeddings: np.ndarray, reference: np.ndarray, data: EmbeddingData, sts: np.ndarray | None) -> dict:
    """mean cosine to the reference (teacher) on the held-out sentences, and the STS Spearman."""
    scores = {"mean_cosine": mean_cosine(embeddings, reference)}
    if data.sts is not None and sts is not None:
        scores["spearman"] = sts_spearman(data.sts, sts)
    return scores


def evaluate_embedders(models: list, tokenizer, data: EmbeddingData, max_seq_len: int, config: EvalConfig) -> list[dict]:
    """One report row per model; the first model (the teacher) is the reference of the mean cosine."""
    rows, reference = [], None
    for name, model in models:
        held = embed(name, model, tokenizer, data.validation, max_seq_len, config.batch_size)
        reference = held if reference is None else reference
        pairs = None if data.sts is None else embed(name, model, tokenizer, data.sts.sentences(), max_seq_len,
                                                    config.batch_size)
        latency = cycled_latency(model, len(data.validation),
                                 lambda ids: batch_of(tokenizer, [data.validation[i] for i in ids], max_seq_len), config)
        rows.append(model_row(name, model, quality(held, reference, data, pairs), latency))
    return rows
