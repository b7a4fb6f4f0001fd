"""Fixtures for the question-answering tests: a tiny tokenizer and hand-written SQuAD files."""

from __future__ import annotations

import pytest
import torch

from tests import tiny
from tests.qa import tiny_squad


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    # The test machine's cores are shared; one thread keeps runs predictable.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def qa_tokenizer(tmp_path_factory):
    """The tiny WordPiece tokenizer with every word of the tiny SQuAD data in its vocabulary."""
    return tiny.write_tokenizer(tmp_path_factory.mktemp("qa-tokenizer"), tiny_squad.all_texts(), max_len=64)


@pytest.fixture(scope="session")
def squad_v1(tmp_path_factory):
    return tiny_squad.write_squad(tmp_path_factory.mktemp("squad") / "train-v1.1.json",
                                  tiny_squad.squad_document())
