"""Evaluate a PyTorch question-answering model on whole validation contexts: start/end logits for
every window, the best span per question across its windows, SQuAD exact match and F1, size and
inference latency (the same timing as classification, on windows)."""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from distill.evaluate import EvalConfig, device_of, model_row, time_batches
from distill.export.inputs import pad_batch
from distill.tasks.question_answering.data import QAExample
from distill.tasks.question_answering.features import Windows
from distill.tasks.question_answering.metrics import SpanConfig, best_answers, squad_metrics


def window_batch(windows: Windows, indices: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    """The chosen windows right-padded into one batch of int64 tensors."""
    batch = pad_batch([windows.input_ids[i] for i in indices], indices, pad_id)
    return {name: torch.from_numpy(values) for name, values in batch.feeds().items()}


@torch.inference_mode()
def predict_spans(model, windows: Windows, batch_size: int, pad_id: int, desc: str = "predict"):
    """(start logits, end logits) per window, each cut to the window's own length."""
    model.eval()
    device = device_of(model)
    starts, ends = [], []
    for first in tqdm(range(0, len(windows), batch_size), desc=desc, leave=False):
        indices = list(range(first, min(first + batch_size, len(windows))))
        batch = {k: v.to(device) for k, v in window_batch(windows, indices, pad_id).items()}
        out = model(**batch)
        for row, i in enumerate(indices):
            length = len(windows.input_ids[i])
            starts.append(out.start_logits[row, :length].float().cpu().numpy())
            ends.append(out.end_logits[row, :length].float().cpu().numpy())
    return starts, ends


def span_latency_ms(model, windows: Windows, pad_id: int, config: EvalConfig) -> dict[str, float]:
    """Median forward time per batch size over the first windows (cycled), as for classification."""
    batches = {size: window_batch(windows, [i % len(windows) for i in range(size)], pad_id)
               for size in config.latency_batch_sizes}
    return time_batches(model, batches, config.latency)


def evaluate_span_model(name: str, model, examples: list[QAExample], windows: Windows, pad_id: int,
                        spans: SpanConfig, config: EvalConfig) -> dict:
    """One row of report.json's `models` list, with exact_match and f1 (fractions)."""
    starts, ends = predict_spans(model, windows, config.batch_size, pad_id, desc=f"evaluate {name}")
    metrics = squad_metrics(examples, best_answers(examples, windows, starts, ends, spans))
    return model_row(name, model, metrics, span_latency_ms(model, windows, pad_id, config))
