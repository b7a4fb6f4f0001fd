"""Batching limits per execution provider, and the settings that override them.

On a CPU a model call costs about its padded tokens, so batches stay modest and padding is bounded,
and a free runner does not wait for company (`max_wait_s` 0): with one runner per core, items
gather while the runners are busy, and a lone request runs at once (measured in docs/RESULTS.md,
"Serving: one model process": the 5 ms wait of before cost a lone request 5 ms and bought no
throughput at 16 or 64 connections); on a GPU a call of 128 items costs little more than one of 8 and padding is nearly free, while
every call has a fixed launch cost, so batches are larger, the padding bound is off and the wait
for company is short (the call itself takes a few milliseconds). Each value can be overridden
(`--max-batch-items`, `--max-batch-tokens`, `--max-batch-padding`, `--max-wait-ms`).
"""

from __future__ import annotations

from dataclasses import replace

from service.batching.policy import BatchLimits
from service.providers import CPU, CUDA
from service.settings import Settings

PROVIDER_LIMITS: dict[str, BatchLimits] = {
    CPU: BatchLimits(max_items=32, max_tokens=8192, max_wait_s=0.0, max_padding=0.2),
    CUDA: BatchLimits(max_items=128, max_tokens=32768, max_wait_s=0.002, max_padding=1.0),
}


def batch_limits(settings: Settings, provider: str) -> BatchLimits:
    """The limits of a model running on `provider`: its defaults (CPU's for any provider not
    listed), with every setting that is given taking their place."""
    limits = PROVIDER_LIMITS.get(provider, PROVIDER_LIMITS[CPU])
    overrides = {
        "max_items": settings.max_batch_items,
        "max_tokens": settings.max_batch_tokens,
        "max_wait_s": None if settings.max_wait_ms is None else settings.max_wait_ms / 1000.0,
        "max_padding": settings.max_batch_padding,
    }
    return replace(limits, **{k: v for k, v in overrides.items() if v is not None})
