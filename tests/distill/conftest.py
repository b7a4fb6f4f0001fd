"""Fixtures for the distill tests: tiny random teachers and small labelled files, built per session."""

from __future__ import annotations

import pytest
import torch

from tests import tiny


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    # The test machine's cores are shared; one thread keeps runs predictable.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def headless_teacher(tmp_path_factory):
    """A 6-layer tiny BERT encoder without a task head."""
    return tiny.write_teacher(tmp_path_factory.mktemp("headless"), layers=6, with_head=False)


@pytest.fixture(scope="session")
def headed_teacher(tmp_path_factory):
    """A 4-layer tiny BERT with a negative/positive classification head and no dropout."""
    return tiny.write_teacher_without_dropout(tmp_path_factory.mktemp("headed"), layers=4, with_head=True)


@pytest.fixture(scope="session")
def reviews_csv(tmp_path_factory):
    return tiny.write_csv(tmp_path_factory.mktemp("data") / "reviews.csv", tiny.labelled_sentences())
