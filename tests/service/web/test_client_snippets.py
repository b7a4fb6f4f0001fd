"""The model card's client snippets (GET /v1/models/{name}/clients): for every model of the web
repository, TEI's (curl and tei-client, for classifiers and embedding models) and InferenceClient's,
with `{base}` for the server's address; each Python snippet runs as shown against a live server."""

from __future__ import annotations

import pytest

from tests.service.live import live_server

pytest.importorskip("huggingface_hub")
pytest.importorskip("tei_client")

MODELS = {"sentiment": 3, "topic": 3, "embed": 3, "qa": 1, "ner": 1}  # name -> snippets


@pytest.fixture(scope="module")
def url(web_repository):
    with live_server(web_repository) as base:
        yield base


@pytest.mark.parametrize(("name", "count"), sorted(MODELS.items()))
def test_every_python_snippet_runs_against_the_server(url, name, count):
    import httpx

    answer = httpx.get(f"{url}/v1/models/{name}/clients")
    assert answer.status_code == 200
    snippets = answer.json()["snippets"]
    assert len(snippets) == count and all("{base}/models/" + name in s["code"] for s in snippets)
    for snippet in snippets:
        if snippet["language"] == "python":
            scope: dict = {}
            exec(snippet["code"].replace("{base}", url), scope)  # noqa: S102 - the page's own code
            assert "client" in scope


def test_snippets_say_how_to_send_the_api_key(web_repository):
    import httpx

    with live_server(web_repository, models=["sentiment"], api_key="k") as base:
        answer = httpx.get(f"{base}/v1/models/sentiment/clients", headers={"Authorization": "Bearer k"})
        assert all("<api key>" in s["code"] for s in answer.json()["snippets"])
        assert httpx.get(f"{base}/v1/models/absent/clients", headers={"Authorization": "Bearer k"}).status_code == 404
