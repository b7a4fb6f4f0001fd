"""A bounded schemathesis run against a live server of tiny models: every operation of the OpenAPI
document, generated valid and invalid requests (fixed seed), checked for server errors and for
responses, status codes, headers and content types that the document does not describe, and for
invalid requests the server accepts. Without an API key and with one (then also: is auth enforced).
text-embeddings-inference's routes and the HF Inference API's have a run of their own, with models
behind their /models/{name} paths (an embedding model, and a classifier for /predict)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.service.live import live_server

ST = str(Path(sys.executable).parent / "st")
CONFIG = Path(__file__).resolve().parents[3] / "schemathesis.toml"
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance,negative_data_rejection")
SEED = 13
# Small limits: the document carries them, so generated texts stay short and the run quick.
LIMITS = dict(models=["qa", "sentiment"], max_text_chars=200, qa_max_context_chars=400, max_inputs=8,
              max_body_bytes=20_000)


TEI_TAGS = "text-embeddings-inference|HF Inference API"
# The path parameter `name` of the TEI and HF Inference API routes: a loaded model, so that the
# generated bodies reach it (a classifier for /predict and /rerank, the embedding model elsewhere).
TEI_NAMES = r"""
[parameters]
"path.name" = "embed"

[[operations]]
include-path-regex = '/models/\{name\}/(predict|rerank)$'
parameters = { "path.name" = "sentiment" }
"""


def fuzz(url: str, work: Path, max_examples: int, *extra: str, config: Path = CONFIG) -> tuple[int, str]:
    """Run schemathesis in `work` (where it keeps its cache); the number of cases and its output."""
    result = subprocess.run(
        [ST, "--config-file", str(config), "run", f"{url}/openapi.json", "--checks", CHECKS, "--max-examples", str(max_examples),
         "--seed", str(SEED), "--workers", "1", "--phases", "examples,coverage,fuzzing",
         "--no-color", *extra],
        capture_output=True, text=True, timeout=300, cwd=work,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts and counts.group(1) == counts.group(2), output[-3000:]
    print(f"schemathesis: {counts.group(1)} cases, all passed")
    return int(counts.group(1)), output


@pytest.mark.slow
def test_fuzzing_without_an_api_key_finds_nothing(qa_repository, tmp_path):
    with live_server(qa_repository, **LIMITS) as url:
        cases, output = fuzz(url, tmp_path, 100, "--exclude-tag-regex", TEI_TAGS)
        document = httpx.get(f"{url}/openapi.json").json()
    assert cases >= 800, output[-2000:]
    operations = sum(len(methods) for methods in document["paths"].values())
    tei = sum(1 for methods in document["paths"].values() for operation in methods.values()
              if set(operation.get("tags", ())) & set(TEI_TAGS.split("|")))
    # every operation of the document: these, and the TEI ones in the run below
    assert tei >= 20 and f"{operations - tei} selected / {operations} total" in output


@pytest.mark.slow
def test_fuzzing_with_an_api_key_finds_nothing(qa_repository, tmp_path):
    with live_server(qa_repository, **LIMITS, api_key="fuzz-key") as url:
        cases, output = fuzz(url, tmp_path, 60, "--header", "Authorization: Bearer fuzz-key",
                             "--checks", "ignored_auth", "--exclude-tag-regex", TEI_TAGS)
    assert cases >= 400, output[-2000:]


@pytest.mark.slow
def test_fuzzing_the_embeddings_route_of_a_served_embedding_model_finds_nothing(embedding_repository, tmp_path):
    """The route with a model behind it: every answer (floats or base64, errors in both shapes)
    as the document describes it."""
    with live_server(embedding_repository, models=["embed"], max_text_chars=200, max_inputs=8,
                     max_body_bytes=20_000) as url:
        cases, output = fuzz(url, tmp_path, 100, "--include-path", "/v1/embeddings")
    assert cases >= 100 and "1 selected" in output, output[-2000:]


@pytest.mark.slow
def test_fuzzing_the_tei_and_inference_api_routes_with_models_behind_them_finds_nothing(embedding_repository,
                                                                                        tmp_path):
    """Every route of text-embeddings-inference (per model and at the root for the default model)
    and POST /models/{name}: TEI's error body and statuses as documented, never a 5xx; with an API
    key, also: is auth enforced."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.read_text() + TEI_NAMES)
    with live_server(embedding_repository, default_model="embed", max_text_chars=200, max_inputs=8,
                     max_body_bytes=20_000, api_key="fuzz-key") as url:
        cases, output = fuzz(url, tmp_path, 30, "--include-tag-regex", TEI_TAGS, "--header",
                             "Authorization: Bearer fuzz-key", "--checks", "ignored_auth", config=config)
        document = httpx.get(f"{url}/openapi.json").json()
    tei = sum(1 for methods in document["paths"].values() for operation in methods.values()
              if set(operation.get("tags", ())) & set(TEI_TAGS.split("|")))
    assert cases >= 600 and f"{tei} selected" in output, output[-2000:]
