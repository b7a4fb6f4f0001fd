"""A JSON snapshot of the service's own Prometheus metrics for the page's live panel.

The snapshot holds cumulative values only (counts, histogram buckets, the queue gauge) read from
the same registry that `/metrics` exposes; the page takes the difference of two snapshots to show
requests/s, p50/p99 and mean batch size over its refresh interval, the way Prometheus' `rate()`
and `histogram_quantile()` would over the same window.
"""

from __future__ import annotations

import math
from collections import defaultdict

from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from pydantic import BaseModel, Field

from service.metrics import Metrics


class Histogram(BaseModel):
    bounds: list[float] = Field(description="upper bounds (le) of the finite buckets")
    counts: list[float] = Field(description="cumulative counts per bucket, the last one +Inf")
    sum: float = 0.0


class RouteStats(BaseModel):
    model: str
    route: str
    requests: float = Field(description="requests answered so far (all statuses)")
    errors: float = Field(0.0, description="of them answered with a 4xx or 5xx status")
    duration: Histogram = Field(description="request duration in seconds")


class ModelStats(BaseModel):
    model: str
    queue_depth: float
    batch_size: Histogram = Field(description="items per model call")
    inference: Histogram = Field(description="seconds per model call")


class LiveSnapshot(BaseModel):
    time: float = Field(description="seconds (a monotonic clock) when the snapshot was taken")
    routes: list[RouteStats]
    models: list[ModelStats]


Families = dict[str, Metric]


def _samples(families: Families, metric: MetricWrapperBase) -> list:
    family = families.get(Metrics.family_name(metric))
    return family.samples if family is not None else []


def histograms(families: Families, metric: MetricWrapperBase, keys: tuple[str, ...]
               ) -> dict[tuple[str, ...], Histogram]:
    """Every labelled child of a Prometheus histogram, keyed by the values of `keys`."""
    buckets: dict[tuple, dict[float, float]] = defaultdict(dict)
    sums: dict[tuple, float] = {}
    for sample in _samples(families, metric):
        key = tuple(sample.labels.get(k, "") for k in keys)
        if sample.name.endswith("_bucket"):
            buckets[key][float(sample.labels["le"])] = sample.value
        elif sample.name.endswith("_sum"):
            sums[key] = sample.value
    out = {}
    for key, by_bound in buckets.items():
        bounds = sorted(by_bound)
        out[key] = Histogram(bounds=[b for b in bounds if math.isfinite(b)],
                             counts=[by_bound[b] for b in bounds], sum=sums.get(key, 0.0))
    return out


def _errors(families: Families, metrics: Metrics) -> dict[tuple[str, str], float]:
    errors: dict[tuple[str, str], float] = defaultdict(float)
    for sample in _samples(families, metrics.requests):
        labels = sample.labels
        if sample.name.endswith("_total") and labels["status_class"] in ("4xx", "5xx"):
            errors[(labels["model"], labels["route"])] += sample.value
    return errors


def _gauge(families: Families, metric: MetricWrapperBase) -> dict[str, float]:
    return {s.labels["model"]: s.value for s in _samples(families, metric)}


def live_snapshot(metrics: Metrics, now: float) -> LiveSnapshot:
    """Routes that named a model (inference and model routes) and every model's batching state."""
    families = metrics.families()
    durations = histograms(families, metrics.request_duration, ("model", "route"))
    errors = _errors(families, metrics)
    routes = [
        RouteStats(model=model, route=route, requests=h.counts[-1], errors=errors.get((model, route), 0.0),
                   duration=h)
        for (model, route), h in sorted(durations.items()) if model
    ]
    sizes = histograms(families, metrics.batch_size, ("model",))
    inference = histograms(families, metrics.inference, ("model",))
    depth = _gauge(families, metrics.queue_depth)
    empty = Histogram(bounds=[], counts=[0.0])
    models = [
        ModelStats(model=name, queue_depth=value, batch_size=sizes.get((name,), empty),
                   inference=inference.get((name,), empty))
        for name, value in sorted(depth.items())
    ]
    return LiveSnapshot(time=now, routes=routes, models=models)
