"""How many batches of a model run at once, and on how many ONNX Runtime threads each.

On a CPU the default (`--model-runners 0`, `--intra-op-threads 0`) is one runner per core, each
calling the session with one intra-op thread: batches run side by side instead of one batch
spread over every core, whose threads wait for each other at every operator. Measured on 2 cores
with the 3-layer INT8 SST-2 student at 64 connections (docs/RESULTS.md), this spent less CPU per
request than one runner of two threads, and a lone request was no slower. On CUDA, one runner
(the device runs one batch at a time anyway). Either setting given explicitly is kept as given.
"""

from __future__ import annotations

from typing import Sequence

from service.runtime.loading import CPU, choose_providers
from service.settings import Settings


def runner_settings(settings: Settings, cores: int, available: Sequence[str]) -> Settings:
    """`settings` with `model_runners` (and on a CPU `intra_op_threads`) decided."""
    if settings.model_runners:
        return settings
    on_cpu = choose_providers(settings.providers, available)[0] == CPU
    if not on_cpu or settings.intra_op_threads:
        return settings.model_copy(update={"model_runners": 1})
    return settings.model_copy(update={"model_runners": max(1, cores), "intra_op_threads": 1})
