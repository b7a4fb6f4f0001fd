"""Fixtures: a tiny BERT encoder declared a mean-pooling, normalising sentence encoder (its own
sentence-transformers files), sentences, and an STS-B-style pair file, all written per session."""

from __future__ import annotations

import pytest
import torch

from distill.tasks.embeddings.pooling import Pooling, write_pooling
from tests import tiny


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def embedding_teacher(tmp_path_factory):
    folder = tiny.write_teacher(tmp_path_factory.mktemp("encoder"), layers=4, with_head=False)
    write_pooling(folder, Pooling("mean", True), 32)
    return folder


@pytest.fixture(scope="session")
def sentences_csv(tmp_path_factory):
    return tiny.write_csv(tmp_path_factory.mktemp("sentences") / "s.csv", tiny.validation_rows())


def write_sts(path):
    """24 pairs of the tiny sentences: a sentence with itself extended (score 4-5), with a sentence of
    the same polarity (2-3) and with one of the other (0-1)."""
    rows, base = [], tiny.labelled_sentences()
    for i in range(8):
        (a, _), (b, _), (c, _) = base[2 * i], base[(2 * i + 2) % len(base)], base[2 * i + 1]
        rows += [(a, f"{a} , truly", 4.0 + i / 8), (a, b, 2.0 + i / 8), (a, c, i / 8)]
    lines = ["index\tsentence1\tsentence2\tscore"] + [f"{i}\t{a}\t{b}\t{s:.3f}" for i, (a, b, s) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def sts_tsv(tmp_path_factory):
    return write_sts(tmp_path_factory.mktemp("sts") / "dev.tsv")
