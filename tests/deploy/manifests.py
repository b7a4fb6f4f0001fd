"""docker/k8s read as data: every manifest by kind, and the Prometheus adapter's rules with their
query templates filled in. Used by test_k8s.py, and by test_prometheus.py to run the adapter's
queries against a live Prometheus."""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from tests.deploy import names


@lru_cache(maxsize=None)
def documents() -> dict[str, tuple[dict, ...]]:
    """File name -> the YAML documents in it, for every manifest in docker/k8s."""
    return {path.name: tuple(d for d in yaml.safe_load_all(path.read_text()) if d)
            for path in sorted(names.K8S.glob("*.yaml"))}


def text(file_name: str) -> str:
    return (names.K8S / file_name).read_text()


def one(kind: str) -> dict:
    found = [d for docs in documents().values() for d in docs if d.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind} in docker/k8s, found {len(found)}"
    return found[0]


def container(name: str = "serve") -> dict:
    containers = one("Deployment")["spec"]["template"]["spec"]["containers"]
    matches = [c for c in containers if c["name"] == name]
    assert len(matches) == 1, [c["name"] for c in containers]
    return matches[0]


def container_env() -> dict[str, str]:
    """The container's plain environment variables (valueFrom ones left out)."""
    return {e["name"]: str(e["value"]) for e in container().get("env", []) if "value" in e}


# ---- the Prometheus adapter --------------------------------------------------------------------

def adapter_rules() -> list[dict]:
    config_map = one("ConfigMap")
    return yaml.safe_load(config_map["data"]["config.yaml"])["rules"]


def adapter_series(rule: dict) -> str:
    """The one series of the service a rule's seriesQuery selects."""
    selected = names.selectors(rule["seriesQuery"])
    assert len(selected) == 1, rule["seriesQuery"]
    return selected[0].name


def adapter_metric(rule: dict) -> str:
    """The custom metric name the adapter serves for a rule (name.matches rewritten to name.as)."""
    naming = rule.get("name", {})
    pattern, as_ = naming.get("matches", "(.*)"), naming.get("as", "$1")
    series = adapter_series(rule)
    assert re.search(pattern, series), f"name.matches {pattern!r} does not match {series}"
    return re.sub(pattern, re.sub(r"\$(\d+)", r"\\\1", as_), series)


def adapter_metrics() -> dict[str, dict]:
    """Custom metric name -> its rule."""
    return {adapter_metric(rule): rule for rule in adapter_rules()}


def render_adapter_query(rule: dict, label_matchers: str, group_by: str) -> str:
    """The PromQL the adapter sends for a rule, with its template fields filled in."""
    return (rule["metricsQuery"]
            .replace("<<.Series>>", adapter_series(rule))
            .replace("<<.LabelMatchers>>", label_matchers)
            .replace("<<.GroupBy>>", group_by))
