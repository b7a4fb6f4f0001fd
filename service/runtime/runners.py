"""How many batches of a model run at once, and on how many ONNX Runtime threads each.

On a CPU the default (`--model-runners 0`, `--intra-op-threads 0`) is one runner per core, each
calling the session with one intra-op thread: batches run side by side instead of one batch
spread over every core, whose threads wait for each other at every operator. Measured on 2 cores
with the 3-layer INT8 SST-2 student at 64 connections (docs/RESULTS.md), this spent less CPU per
request than one runner of two threads, and a lone request was no slower. On CUDA, one runner
(the device runs one batch at a time anyway). Either setting given explicitly is kept as given.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

from service.providers import CPU, choose_providers
from service.settings import Settings


def _quota(cgroup: Path) -> float | None:
    """CPUs allowed by the cgroup's CPU quota (v2 `cpu.max`, v1 `cfs_quota_us`), None when unlimited."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None


def available_cores(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """The cores this process may use: its CPU affinity, bounded by a container's CPU quota (a
    container limited to 2 CPUs on a 64-core host counts 2, not 64)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = _quota(cgroup)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def worker_count(settings: Settings, cores: int) -> Settings:
    """`settings` with `workers` decided: 0 (auto) is one HTTP worker per core."""
    return settings if settings.workers else settings.model_copy(update={"workers": max(1, cores)})


def runner_settings(settings: Settings, cores: int, available: Sequence[str]) -> Settings:
    """`settings` with `model_runners` (and on a CPU `intra_op_threads`) decided."""
    if settings.model_runners:
        return settings
    on_cpu = choose_providers(settings.providers, available)[0] == CPU
    if not on_cpu or settings.intra_op_threads:
        return settings.model_copy(update={"model_runners": 1})
    return settings.model_copy(update={"model_runners": max(1, cores), "intra_op_threads": 1})
