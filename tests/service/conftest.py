"""Fixtures: tiny model repositories (built once per session) and apps wired to them."""

from __future__ import annotations

import contextlib
import shutil
import time
import warnings
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import Settings
from tests.service.model_folders import (
    break_checksum,
    build_embedding_repository,
    build_qa_repository,
    build_repository,
    build_token_repository,
)


@pytest.fixture(scope="session")
def repository(tmp_path_factory) -> Path:
    """models/ with `sentiment` (negative/positive; fp32 + int8 copy) and `topic` (3 labels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.onnx tracer warnings about the random model
        return build_repository(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def broken_repository(repository, tmp_path_factory) -> Path:
    """A repository holding a good `sentiment` and a `corrupt` folder whose checksum is wrong."""
    root = tmp_path_factory.mktemp("broken")
    shutil.copytree(repository / "sentiment", root / "sentiment")
    shutil.copytree(repository / "topic", root / "corrupt")
    break_checksum(root / "corrupt")
    return root


def make_settings(repository: Path, **overrides) -> Settings:
    values = dict(
        model_repository=repository, intra_op_threads=1, warmup_batches=1, max_wait_ms=2.0,
        max_batch_items=16, request_timeout_s=10.0,
    )
    values.update(overrides)
    return Settings(**values)


def wait_ready(client: TestClient, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.02)
    raise AssertionError("the app did not become ready")


@contextlib.contextmanager
def serving(repository: Path, ready: bool = True, **overrides) -> Iterator[TestClient]:
    app = create_app(make_settings(repository, **overrides))
    with TestClient(app, raise_server_exceptions=False) as client:
        if ready:
            wait_ready(client)
        yield client


@pytest.fixture(scope="module")
def client(repository) -> Iterator[TestClient]:
    with serving(repository) as c:
        yield c


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def qa_repository(repository, tmp_path_factory) -> Path:
    """`qa` (rule model with known answers), `qa-random` (random DistilBERT) and `sentiment`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_qa_repository(tmp_path_factory.mktemp("qa_models"), repository / "sentiment")


@pytest.fixture(scope="module")
def qa_client(qa_repository) -> Iterator[TestClient]:
    """An app serving the rule QA model (the only QA model, so `model` may be left out) and `sentiment`."""
    with serving(qa_repository, models=["qa", "sentiment"]) as c:
        yield c


@pytest.fixture(scope="session")
def token_repository(repository, tmp_path_factory) -> Path:
    """`ner` (rule model with known entities), `ner-random` (random DistilBERT) and `sentiment`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_token_repository(tmp_path_factory.mktemp("token_models"), repository / "sentiment")


@pytest.fixture(scope="session")
def embedding_repository(repository, tmp_path_factory) -> Path:
    """`embed` (a random mean-pooled, L2-normalised DistilBERT) and `sentiment`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_embedding_repository(tmp_path_factory.mktemp("embedding_models"), repository / "sentiment")
