"""One way to time inference, shared by the PyTorch and ONNX Runtime measurements."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LatencyConfig:
    warmup: int = 3  # untimed calls before measuring
    repeats: int = 20  # timed calls; the median is reported


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p90_ms: float
    repeats: int

    def as_dict(self) -> dict[str, float]:
        return {"median_ms": self.median_ms, "p90_ms": self.p90_ms, "repeats": self.repeats}


def measure(call: Callable[[], object], config: LatencyConfig = LatencyConfig()) -> Latency:
    """Median and 90th percentile wall time of `call()`, after `warmup` untimed calls."""
    for _ in range(config.warmup):
        call()
    times: list[float] = []
    for _ in range(config.repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    return Latency(median_ms=statistics.median(times), p90_ms=p90, repeats=len(times))
