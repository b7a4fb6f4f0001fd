"""What the service really exposes, derived from its code: metric series and their labels,
settings and their environment variables, HTTP routes. The deploy tests compare the shipped
files (Dockerfile, compose, Prometheus, Grafana, Kubernetes) against these, never against a
second hand-written copy.

Also: a small PromQL reference extractor, enough to find which series, labels and label values
an expression of ours names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from service import metrics as service_metrics
from service.batching.limits import PROVIDER_LIMITS
from service.providers import CPU
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
K8S = DOCKER / "k8s"

# Labels Prometheus adds to every scraped series (static configs, ServiceMonitor, adapter).
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "service", "endpoint", "container"})


@lru_cache(maxsize=None)
def series_labels() -> dict[str, frozenset[str]]:
    """Every series name /metrics can carry, mapped to its label names."""
    registry_owner = service_metrics.Metrics()
    series: dict[str, frozenset[str]] = {}
    for value in vars(registry_owner).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        name, kind, labels = value._name, value._type, frozenset(value._labelnames)
        if kind == "counter":
            series[f"{name}_total"] = labels
            series[f"{name}_created"] = labels
        elif kind == "histogram":
            series[f"{name}_bucket"] = labels | {"le"}
            series[f"{name}_sum"] = labels
            series[f"{name}_count"] = labels
            series[f"{name}_created"] = labels
        else:
            series[name] = labels
    assert series, "service.metrics.Metrics registers no metric"
    return series


def metric_prefix() -> str:
    return service_metrics.PREFIX + "_"


def family_of(series: str) -> str:
    """serve_queue_wait_seconds_bucket -> serve_queue_wait_seconds."""
    for suffix in ("_bucket", "_sum", "_count", "_total", "_created"):
        if series.endswith(suffix) and series[: -len(suffix)] in _families():
            return series[: -len(suffix)]
    return series


@lru_cache(maxsize=None)
def _families() -> frozenset[str]:
    m = service_metrics.Metrics()
    return frozenset(v._name for v in vars(m).values() if isinstance(v, MetricWrapperBase))


def family(attribute: str) -> str:
    """The metric name of a `Metrics` attribute, e.g. 'queue_wait' -> 'serve_queue_wait_seconds'."""
    return getattr(service_metrics.Metrics(), attribute)._name


def status_classes() -> frozenset[str]:
    return frozenset(service_metrics.status_class(code) for code in range(100, 600))


def rejection_reasons() -> frozenset[str]:
    return frozenset(service_metrics.REJECTION_REASONS)


# ---- settings -----------------------------------------------------------------------------------

def env_prefix() -> str:
    return Settings.model_config["env_prefix"]


def env_names() -> dict[str, str]:
    """SERVE_MAX_WAIT_MS -> max_wait_ms, for every setting."""
    return {f"{env_prefix()}{field}".upper(): field for field in Settings.model_fields}


def env_name(field: str) -> str:
    assert field in Settings.model_fields, f"Settings has no field {field!r}"
    return f"{env_prefix()}{field}".upper()


def default(field: str):
    return Settings.model_fields[field].default


def cpu_batch_limits():
    """The batching limits a model on the CPU provider gets when no setting overrides them."""
    return PROVIDER_LIMITS[CPU]


def settings_from_env(env: dict[str, str]) -> Settings:
    """Settings as the service would build them from these environment variables alone."""
    known = env_names()
    values = {known[k]: v for k, v in env.items() if k in known}
    return Settings.model_validate(values)


# ---- routes -------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _openapi_paths() -> dict:
    from service.main import create_app

    return create_app(Settings()).openapi()["paths"]  # the lifespan (model loading) is not run


def routes() -> frozenset[str]:
    """Every path the app serves (its OpenAPI document)."""
    return frozenset(_openapi_paths())


def route_of(endpoint_name: str) -> str:
    """The path served by the endpoint function of this name (healthz, readyz, metrics): FastAPI
    builds each operationId from the function name."""
    paths = [path for path, operations in _openapi_paths().items()
             if any(op.get("operationId", "").startswith(f"{endpoint_name}_") for op in operations.values())]
    assert len(paths) == 1, f"expected one route for endpoint {endpoint_name!r}, found {paths}"
    return paths[0]


# ---- PromQL -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[tuple[str, str, str], ...]  # (label, operator, value)


_SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*\"((?:[^\"\\]|\\.)*)\"")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"")


def selectors(expr: str, prefix: str | None = None) -> list[Selector]:
    """Selectors of series whose names start with `prefix` (the service's metric prefix)."""
    prefix = metric_prefix() if prefix is None else prefix
    found = []
    for match in _SELECTOR.finditer(expr):
        name, braces = match.group(1), match.group(2) or ""
        if not name.startswith(prefix):
            continue
        found.append(Selector(name, tuple(_MATCHER.findall(braces))))
    return found


def grouping_labels(expr: str) -> set[str]:
    labels: set[str] = set()
    for group in _GROUPING.findall(_STRINGS.sub('""', expr)):
        labels.update(part.strip() for part in group.split(",") if part.strip())
    return labels


def problems(expr: str, extra_labels: frozenset[str] = TARGET_LABELS) -> list[str]:
    """What in `expr` does not match the service's metrics: unknown series, unknown labels, label
    values the service never sets. Empty when all is well."""
    known = series_labels()
    found: list[str] = []
    used = selectors(expr)
    labels_in_expr: set[str] = set(extra_labels)
    for sel in used:
        if sel.name not in known:
            found.append(f"unknown series {sel.name}")
            continue
        labels_in_expr |= known[sel.name]
        for label, op, value in sel.matchers:
            if label not in known[sel.name] | extra_labels:
                found.append(f"{sel.name} has no label {label!r}")
            elif op in ("=", "!=") and value and not value.startswith("$"):
                allowed = {"status_class": status_classes(), "reason": rejection_reasons(),
                           "route": routes()}.get(label)
                if allowed is not None and value not in allowed:
                    found.append(f"{sel.name}{{{label}{op}{value!r}}}: the service never sets this value")
            elif op == "=~" and label == "route":
                if not any(re.fullmatch(value, r) for r in routes()):
                    found.append(f"{sel.name}{{route=~{value!r}}} matches no route of the app")
    for label in grouping_labels(expr) - labels_in_expr:
        found.append(f"grouping by {label!r}, which none of {sorted({s.name for s in used})} carries")
    return found
