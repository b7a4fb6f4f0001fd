"""What every task's evaluation shares: its settings, the parameter count and the timing of
forward passes (each model gets the same batches; the median of repeated calls is reported)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from distill.devices import describe
from distill.latency import LatencyConfig, measure


@dataclass(frozen=True)
class EvalConfig:
    batch_size: int = 64  # for the quality pass
    latency_batch_sizes: tuple[int, ...] = (1, 32)
    latency: LatencyConfig = LatencyConfig()


def parameter_count(model: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


Batch = dict[str, torch.Tensor]


def forward_batches(model, count: int, batch_size: int, make_batch: Callable[[list[int]], Batch], desc: str):
    """(indices, outputs) of the model (eval mode, no grad) over `count` examples in order,
    `batch_size` at a time, each batch made by `make_batch(indices)`."""
    model.eval()
    device = device_of(model)
    for first in tqdm(range(0, count, batch_size), desc=desc, leave=False):
        indices = list(range(first, min(first + batch_size, count)))
        with torch.inference_mode():
            yield indices, model(**{k: v.to(device) for k, v in make_batch(indices).items()})


def cycled_latency(model, count: int, make_batch: Callable[[list[int]], Batch], config: EvalConfig) -> dict[str, float]:
    """Median forward time per batch size of the first examples (cycled when there are fewer);
    every model gets the same batches."""
    batches = {size: make_batch([i % count for i in range(size)]) for size in config.latency_batch_sizes}
    return time_batches(model, batches, config.latency)


def time_batches(model, batches: dict[int, dict[str, torch.Tensor]], latency: LatencyConfig) -> dict[str, float]:
    """Median forward time (ms) of `model` on each batch, keyed by batch size as a string."""
    model.eval()
    device = device_of(model)
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


def model_row(name: str, model, quality: dict[str, float], latency_ms: dict[str, float]) -> dict:
    """One row of report.json's `models` list: the task's quality metrics, size, latency and the
    device it was measured on."""
    return {
        "name": name,
        **{key: round(value, 6) for key, value in quality.items()},
        "parameters": parameter_count(model),
        "size_bytes": None,
        "latency_ms": latency_ms,
        "device": describe(device_of(model)),
    }
