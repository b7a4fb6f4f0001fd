"""Every Prometheus metric of the service, in one place, on a per-app registry.

Names follow Prometheus conventions: base units (`_seconds`), `_total` for counters, and labels of
low cardinality (model, route template, status class, reason).

With several worker processes (`serve --workers N`) each worker writes its values to the shared
folder of prometheus_client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by the parent before
the workers start), and every worker's `/metrics` and live panel read all of them: counters and
histograms add up, the queue depth is the sum over live workers, `ready` their minimum.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric

PREFIX = "serve"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # the shared folder; read by prometheus_client at import

# Fine enough at the low end to read a p99 of a few milliseconds.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03,
    0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)
BATCH_SIZE_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256)
TOKEN_BUCKETS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)
RATIO_BUCKETS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

REJECTION_REASONS = ("queue_full", "too_long", "deadline")


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class Metrics:
    """The service's metrics, registered on their own `CollectorRegistry`."""

    def __init__(self, registry: CollectorRegistry | None = None, multiprocess: bool = False) -> None:
        self.registry = registry or CollectorRegistry()
        self.multiprocess = multiprocess
        r, p = self.registry, PREFIX
        self.request_duration = Histogram(
            f"{p}_request_duration_seconds", "Time from request arrival to response, per route.",
            ["model", "route"], registry=r, buckets=LATENCY_BUCKETS)
        self.requests = Counter(
            f"{p}_requests", "HTTP requests answered, by model, route template and status class.",
            ["model", "route", "status_class"], registry=r)
        self.tokenization = Histogram(
            f"{p}_tokenization_duration_seconds", "Time to tokenize the texts of one request.",
            ["model"], registry=r, buckets=LATENCY_BUCKETS)
        self.queue_wait = Histogram(
            f"{p}_queue_wait_seconds", "Time an item waited in the queue before its model call.",
            ["model"], registry=r, buckets=LATENCY_BUCKETS)
        self.inference = Histogram(
            f"{p}_inference_duration_seconds", "Time of one batched model call (pad + run).",
            ["model"], registry=r, buckets=LATENCY_BUCKETS)
        self.batch_size = Histogram(
            f"{p}_batch_size_items", "Items per model call.",
            ["model"], registry=r, buckets=BATCH_SIZE_BUCKETS)
        self.batch_tokens = Histogram(
            f"{p}_batch_padded_tokens", "Padded tokens (longest x items) per model call.",
            ["model"], registry=r, buckets=TOKEN_BUCKETS)
        self.padding_ratio = Histogram(
            f"{p}_batch_padding_ratio", "Share of a batch's padded tokens that is padding.",
            ["model"], registry=r, buckets=RATIO_BUCKETS)
        self.queue_depth = Gauge(
            f"{p}_queue_depth_items", "Items pending in a model's queue.", ["model"], registry=r,
            multiprocess_mode="livesum")
        self.items = Counter(
            f"{p}_items_processed", "Items (texts) run through a model.", ["model"], registry=r)
        self.tokens = Counter(
            f"{p}_tokens_processed", "Real (unpadded) tokens run through a model.", ["model"], registry=r)
        self.rejections = Counter(
            f"{p}_rejections", "Requests refused, by reason (queue_full, too_long, deadline).",
            ["model", "reason"], registry=r)
        self.model_info = Gauge(
            f"{p}_model_info", "Loaded models (value 1) with their task, variant and provider.",
            ["model", "task", "variant", "provider"], registry=r, multiprocess_mode="livemax")
        self.ready = Gauge(
            f"{p}_ready", "1 when every model is loaded and warmed up.", registry=r,
            multiprocess_mode="livemin")
        self.model_process_restarts = Counter(
            f"{p}_model_process_restarts", "Model processes started again after the one before died, "
            "by how it died (the signal's name, or exit_<code>).", ["reason"], registry=r)

    def observe_batch(self, model: str, size: int, padded: int, real: int, seconds: float) -> None:
        self.inference.labels(model).observe(seconds)
        self.batch_size.labels(model).observe(size)
        self.batch_tokens.labels(model).observe(padded)
        self.padding_ratio.labels(model).observe(1.0 - real / padded if padded else 0.0)
        self.items.labels(model).inc(size)
        self.tokens.labels(model).inc(real)

    def observe_request(self, model: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(model, route, status_class(status)).inc()
        self.request_duration.labels(model, route).observe(seconds)

    def _collected(self) -> CollectorRegistry:
        """The registry to read: this process's, or one gathering every worker's files."""
        if not self.multiprocess:
            return self.registry
        from prometheus_client import multiprocess

        gathered = CollectorRegistry()
        multiprocess.MultiProcessCollector(gathered)
        return gathered

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self._collected()), CONTENT_TYPE_LATEST

    def families(self) -> dict[str, Metric]:
        """Every metric family by name, as /metrics shows them (all workers' together)."""
        return {family.name: family for family in self._collected().collect()}

    @staticmethod
    def family_name(metric: MetricWrapperBase) -> str:
        return metric.describe()[0].name

    def close_worker(self, pid: int) -> None:
        """A worker is stopping: its live gauges no longer count."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid)
