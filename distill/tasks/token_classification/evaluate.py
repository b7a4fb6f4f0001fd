"""Evaluate a PyTorch token classifier on the validation sentences: entity precision / recall / F1
of the words' tags (each read at its first sub-token, in its best window), size and latency."""

from __future__ import annotations

import torch

from distill.evaluate import EvalConfig, cycled_latency, forward_batches, model_row
from distill.export.inputs import pad_batch
from distill.tasks.token_classification.data import Sentence
from distill.tasks.token_classification.features import TokenWindows, word_tags
from distill.tasks.token_classification.metrics import entity_scores


def window_batch(windows: TokenWindows, indices: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    """The chosen windows right-padded into one batch of int64 tensors."""
    batch = pad_batch([windows.input_ids[i] for i in indices], indices, pad_id)
    return {name: torch.from_numpy(values) for name, values in batch.feeds().items()}


def tag_quality(sentences: list[Sentence], windows: TokenWindows, logits: list, labels: list[str]) -> dict[str, float]:
    """Entity scores of the tags read from per-window logits against the sentences' gold tags."""
    return entity_scores([s.tags for s in sentences], word_tags(windows, logits, labels))


def evaluate_tagger(name: str, model, sentences: list[Sentence], windows: TokenWindows, labels: list[str],
                    pad_id: int, config: EvalConfig) -> dict:
    """One row of report.json's `models` list with entity_precision, entity_recall, entity_f1."""
    def make_batch(indices: list[int]) -> dict[str, torch.Tensor]:
        return window_batch(windows, indices, pad_id)

    logits = []
    for indices, out in forward_batches(model, len(windows), config.batch_size, make_batch, f"evaluate {name}"):
        logits += [out.logits[row, :len(windows.input_ids[i])].float().cpu().numpy() for row, i in enumerate(indices)]
    quality = tag_quality(sentences, windows, logits, labels)
    return model_row(name, model, quality, cycled_latency(model, len(windows), make_batch, config))
