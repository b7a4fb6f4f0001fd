"""Routes of the web page: the page and its assets, the model card, the report files (and nothing
else of a model folder), and the live metrics snapshot, on an app serving tiny models."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from service.web.files import is_plain_name, servable_files
from tests.service.conftest import serving
from tests.service.routes.test_api import error_of
from tests.service.web.reports import PLOTS, SECRET

KEY = "s3cret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.links += [v for k, v in attrs if k in ("src", "href") and v]


@pytest.fixture(scope="module")
def web(web_repository) -> Iterator[TestClient]:
    with serving(web_repository) as client:
        yield client


@pytest.fixture(scope="module")
def keyed(web_repository) -> Iterator[TestClient]:
    with serving(web_repository, api_key=KEY, models=["sentiment"]) as client:
        yield client


def test_page_and_every_asset_it_links_are_served_from_the_package(web):
    page = web.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    parser = Links()
    parser.feed(page.text)
    assets = [link for link in parser.links if link.startswith("web/static/")]
    assert {"web/static/app.js", "web/static/style.css"} <= set(assets)
    scripts = []
    for link in assets:
        response = web.get("/" + link)
        assert response.status_code == 200, link
        kind = "text/javascript" if link.endswith(".js") else "text/css"
        assert response.headers["content-type"].startswith(kind)
        scripts.append(response.text)
    # app.js imports the other modules relatively; each of those is served too.
    for module in set(re.findall(r'from "\./([\w.]+\.js)"', "\n".join(scripts))):
        assert web.get(f"/web/static/{module}").status_code == 200, module
    for text in [page.text, *scripts]:
        assert not re.search(r"https?://", text), "the page loads nothing from elsewhere"


def test_page_says_whether_a_key_is_needed_and_needs_none_itself(web, keyed):
    assert 'data-auth="none"' in web.get("/").text
    page = keyed.get("/")
    assert page.status_code == 200 and 'data-auth="required"' in page.text
    assert keyed.get("/web/static/app.js").status_code == 200
    assert keyed.get("/metrics/summary").status_code == 200  # like /metrics
    for path in ("/v1/models/sentiment/card", "/v1/models/sentiment/files/report.json"):
        error_of(keyed.get(path), 401)
        assert keyed.get(path, headers=AUTH).status_code == 200


def test_unknown_static_files_are_refused(web):
    for name in ("nope.js", "..%2F__init__.py", "%2e%2e", "..%2Froutes.py"):
        error_of(web.get(f"/web/static/{name}"), 404)


def test_card_compares_every_row_with_the_teacher(web, web_repository):
    report = json.loads((web_repository / "sentiment" / "report.json").read_text())
    response = web.get("/v1/models/sentiment/card")
    assert response.status_code == 200, response.text
    card = response.json()
    teacher = report["models"][0]
    assert card["baseline"] == teacher["name"] and card["layer_map"] == report["layer_map"]
    assert card["metrics"] == {"accuracy": "accuracy", "macro_f1": "macro-F1"}
    assert card["batch_sizes"] == ["1", "32"]
    assert [r["name"] for r in card["rows"]] == [r["name"] for r in report["models"]]
    for row, source in zip(card["rows"], report["models"]):
        assert row["retention"]["accuracy"] == pytest.approx(source["accuracy"] / teacher["accuracy"], abs=1e-4)
        assert row["size_bytes"] == source["size_bytes"]
        for size, ms in source["latency_ms"].items():
            assert row["speedup"][size] == pytest.approx(teacher["latency_ms"][size] / ms, abs=1e-4)
        assert set(row["speedup"]) == set(source["latency_ms"])  # int8 has no batch-32 timing
    assert card["plots"] == PLOTS  # the unsafe names the report lists are dropped
    assert card["markdown"] == "report.md" and card["notes"] == report["export"]["notes"]


def test_report_files_are_served_as_they_are(web, web_repository):
    folder = web_repository / "sentiment"
    for name, kind in [("report.json", "application/json"), ("report.md", "text/markdown"),
                       *[(plot, "image/png") for plot in PLOTS]]:
        response = web.get(f"/v1/models/sentiment/files/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(kind)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == (folder / name).read_bytes()


@pytest.mark.parametrize("name", [
    "manifest.json", "model.onnx", "tokenizer.json",          # in the folder, not report files
    "secret.png", "%2e%2e", "..%2Fsecret.png", "%2e%2e%2fsecret.png", "..%5csecret.png",
    "..%252Fsecret.png", ".hidden.png", "sub%2Finner.png", "link.png",  # link.png points outside
])
def test_nothing_else_of_the_folder_is_served(web, name):
    response = web.get(f"/v1/models/sentiment/files/{name}")
    assert response.status_code == 404, name
    assert SECRET not in response.content and b"schema_version" not in response.content


def test_only_plain_listed_names_are_servable(web_repository):
    folder = web_repository / "sentiment"
    served = servable_files(folder)
    assert sorted(served) == sorted(["report.json", "report.md", *PLOTS])
    assert all(path.parent == folder.resolve() for path in served.values())
    for name in ("..", ".", "../secret.png", "sub/inner.png", "/etc/passwd", "a\\b.png", " x.png", ".hidden.png", ""):
        assert not is_plain_name(name), name


@pytest.mark.parametrize("path", [
    "/v1/models/../sentiment/files/report.json", "/v1/models/%2e%2e/files/secret.png",
    "/v1/models/..%2Fsentiment/files/report.json", "/v1/models/nope/card", "/v1/models/%2e%2e/card",
])
def test_model_names_are_looked_up_not_joined(web, path):
    response = web.get(path)
    assert response.status_code == 404, path
    assert SECRET not in response.content


def test_a_folder_without_report_has_no_card_and_no_files(web):
    message = error_of(web.get("/v1/models/topic/card"), 404)["message"]
    assert "report.json" in message
    error_of(web.get("/v1/models/topic/files/report.json"), 404)


def _exposed(client: TestClient, name: str, **labels: str) -> float:
    """One sample's value from the Prometheus exposition at /metrics."""
    selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}{{{re.escape(selector)}}} (\S+)$", client.get("/metrics").text, re.M)
    assert match, f"{name}{{{selector}}} not in /metrics"
    return float(match.group(1))


def test_summary_holds_the_same_figures_as_metrics(web):
    def route(snapshot: dict) -> dict:
        return next(r for r in snapshot["routes"] if (r["model"], r["route"]) == ("sentiment", "/v1/sentiment"))

    web.post("/v1/sentiment", json={"inputs": "warm"})
    before = web.get("/metrics/summary").json()
    for text in ("a wonderful film", "a dull film", "great cast"):
        assert web.post("/v1/sentiment", json={"inputs": text}).status_code == 200
    assert web.post("/v1/sentiment", json={"inputs": " ".join(["great"] * 50)}).status_code == 422
    after = web.get("/metrics/summary").json()
    assert after["time"] > before["time"]
    assert route(after)["requests"] - route(before)["requests"] == 4
    assert route(after)["errors"] - route(before)["errors"] == 1
    duration = route(after)["duration"]
    assert duration["counts"] == sorted(duration["counts"]) and len(duration["counts"]) == len(duration["bounds"]) + 1
    assert duration["counts"][-1] == _exposed(web, "serve_request_duration_seconds_count",
                                              model="sentiment", route="/v1/sentiment")
    models = {m["model"]: m for m in after["models"]}
    assert set(models) == {"sentiment", "topic", "qa", "ner", "embed"} and models["sentiment"]["queue_depth"] == 0
    batches = models["sentiment"]["batch_size"]
    assert batches["counts"][-1] == _exposed(web, "serve_batch_size_items_count", model="sentiment")
    assert batches["sum"] == _exposed(web, "serve_batch_size_items_sum", model="sentiment")
    assert all(r["model"] for r in after["routes"])  # the page's own requests name no model


def test_the_page_can_be_turned_off(web_repository):
    with serving(web_repository, web_page=False, models=["topic"]) as client:
        root = client.get("/")  # text-embeddings-inference's health check of the default model, as TEI has it
        assert root.status_code == 200 and root.text == ""
        error_of(client.get("/metrics/summary"), 404)
