"""Evaluate a PyTorch question-answering model on whole validation contexts: SQuAD exact match and
F1, size and inference latency (the same timing as classification, on windows)."""

from __future__ import annotations

import torch

from distill.evaluate import EvalConfig, cycled_latency, forward_batches, model_row
from distill.export.inputs import pad_batch
from distill.tasks.question_answering.data import QAExample
from distill.tasks.question_answering.features import Windows
from distill.tasks.question_answering.metrics import SpanConfig, best_answers, squad_metrics


def window_batch(windows: Windows, indices: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    """The chosen windows right-padded into one batch of int64 tensors."""
    batch = pad_batch([windows.input_ids[i] for i in indices], indices, pad_id)
    return {name: torch.from_numpy(values) for name, values in batch.feeds().items()}


def evaluate_span_model(name: str, model, examples: list[QAExample], windows: Windows, pad_id: int,
                        spans: SpanConfig, config: EvalConfig) -> dict:
    """One row of report.json's `models` list, with exact_match and f1 (fractions): start and end
    logits of every window (cut to its own length), the best span per question over its windows."""
    def make_batch(indices: list[int]) -> dict[str, torch.Tensor]:
        return window_batch(windows, indices, pad_id)

    starts, ends = [], []
    for indices, out in forward_batches(model, len(windows), config.batch_size, make_batch, f"evaluate {name}"):
        for row, i in enumerate(indices):
            length = len(windows.input_ids[i])
            starts.append(out.start_logits[row, :length].float().cpu().numpy())
            ends.append(out.end_logits[row, :length].float().cpu().numpy())
    metrics = squad_metrics(examples, best_answers(examples, windows, starts, ends, spans))
    return model_row(name, model, metrics, cycled_latency(model, len(windows), make_batch, config))
