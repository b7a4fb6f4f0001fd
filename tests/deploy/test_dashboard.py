"""The Grafana dashboard: every query names real series, labels and label values, per model, and
the panels cover what an operator needs to see."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.deploy import names

DASHBOARD = json.loads((names.DOCKER / "grafana/dashboards/serving.json").read_text())
DATASOURCES = yaml.safe_load(
    (names.DOCKER / "grafana/provisioning/datasources/prometheus.yaml").read_text())["datasources"]


def panels() -> list[dict]:
    found = []
    for panel in DASHBOARD["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return [p for p in found if p.get("type") != "row"]


def queries() -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in panels() for t in p.get("targets", [])]


def families_in(title_part: str) -> set[str]:
    return {names.family_of(s.name) for p in panels() if title_part.lower() in p["title"].lower()
            for t in p["targets"] for s in names.selectors(t["expr"])}


def test_every_panel_has_a_query_and_a_unique_id():
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels():
        assert panel.get("targets"), f"panel {panel['title']!r} has no query"


@pytest.mark.parametrize("title,expr", queries(), ids=[f"{t}:{i}" for i, (t, _) in enumerate(queries())])
def test_queries_name_what_the_service_exposes(title, expr):
    assert names.selectors(expr), f"{title}: no series of the service in {expr}"
    assert names.problems(expr) == []


def test_queries_filter_by_the_model_variable():
    """Every series with a model label is selected with the dashboard's $model variable."""
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert "model" in variables
    for expr in names.selectors(variables["model"]["definition"]):
        assert "model" in names.series_labels()[expr.name]
    for title, expr in queries():
        for sel in names.selectors(expr):
            if "model" in names.series_labels()[sel.name]:
                assert ("model", "=~", "$model") in sel.matchers, f"{title}: {sel.name} ignores $model"


def test_all_models_excludes_the_routes_without_a_model():
    """/healthz, /readyz and /metrics are counted with model=""; "All" must not include them."""
    variable = next(v for v in DASHBOARD["templating"]["list"] if v["name"] == "model")
    assert variable["includeAll"] and variable["allValue"] == ".+"


def test_panels_use_the_provisioned_data_source():
    uids = {d["uid"] for d in DATASOURCES}
    for panel in panels():
        assert panel["datasource"]["uid"] in uids
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids


@pytest.mark.parametrize("title,attributes", [
    ("Requests per second", ["requests"]),
    ("latency p50 / p95 / p99", ["request_duration"]),
    ("Queue wait vs inference", ["queue_wait", "inference"]),
    ("Batch size", ["batch_size"]),
    ("Padded tokens", ["batch_tokens"]),
    ("Queue depth", ["queue_depth"]),
    ("429 and 5xx", ["rejections", "requests"]),
    ("Ready", ["ready"]),
])
def test_required_panels_show_the_right_metrics(title, attributes):
    assert families_in(title) >= {names.family(a) for a in attributes}, title


def test_latency_panel_has_p50_p95_p99_per_model():
    panel = next(p for p in panels() if "p50 / p95 / p99" in p["title"])
    exprs = [t["expr"] for t in panel["targets"]]
    for quantile in ("0.5", "0.95", "0.99"):
        assert any(e.startswith(f"histogram_quantile({quantile},") for e in exprs), quantile
    assert all("by (model, le)" in e for e in exprs)


def test_429_and_5xx_are_shown_by_their_real_labels():
    panel = next(p for p in panels() if "429 and 5xx" in p["title"])
    matchers = {m for t in panel["targets"] for s in names.selectors(t["expr"]) for m in s.matchers}
    assert ("reason", "=", "queue_full") in matchers
    assert ("status_class", "=", "5xx") in matchers
