"""A model repository for the web page: `sentiment` with a distillation report and plots,
`topic` without one, the rule question-answering model `qa` and the rule token-classification
model `ner` and the random sentence-embedding model `embed`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.service.web.reports import write_report_files


@pytest.fixture(scope="session")
def web_repository(repository, qa_repository, token_repository, embedding_repository, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("web_models")
    for source in (repository / "sentiment", repository / "topic", qa_repository / "qa", token_repository / "ner",
                   embedding_repository / "embed"):
        shutil.copytree(source, root / source.name)
    write_report_files(root / "sentiment")
    return root
