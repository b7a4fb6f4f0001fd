"""Fixtures for the token-classification tests: a tiny tokenizer and teacher, hand-written CoNLL
files, and one `distill run --task token-classification` on them."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from tests import tiny
from tests.distill.tasks.token_classification import tiny_conll

# options shared by `distill teacher`, `student` and `run`; `run` also takes --teacher-epochs
COMMON = ["--task", "token-classification", "--epochs", "2", "--batch-size", "4", "--max-seq-len", "8",
          "--doc-stride", "2", "--logging-steps", "1"]
QUICK = [*COMMON, "--teacher-epochs", "2"]


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)  # the test machine's cores are shared


@pytest.fixture(scope="session")
def conll_files(tmp_path_factory):
    """(train, validation) CoNLL files: nine IOB2 sentences to train on, three to validate."""
    folder = tmp_path_factory.mktemp("conll")
    sentences = tiny_conll.tagged()
    return (tiny_conll.write_conll(folder / "train.conll", sentences[:9]),
            tiny_conll.write_conll(folder / "dev.conll", sentences[9:]))


@pytest.fixture(scope="session")
def tc_tokenizer(tmp_path_factory):
    return tiny.write_tokenizer(tmp_path_factory.mktemp("tc-tokenizer"), tiny_conll.all_texts())


@pytest.fixture(scope="session")
def tc_teacher(tmp_path_factory):
    """A 4-layer tiny BERT encoder without a head, whose vocabulary covers the tiny sentences."""
    return tiny.write_teacher(tmp_path_factory.mktemp("tc-teacher"), layers=4, texts=tiny_conll.all_texts())


@pytest.fixture(scope="session")
def tc_run(tc_teacher, conll_files, tmp_path_factory):
    """The run directory of `distill run --task token-classification` on the tiny teacher and data."""
    from distill.cli import app

    out = tmp_path_factory.mktemp("tc-run")
    train, dev = conll_files
    result = CliRunner().invoke(app, ["run", "--teacher", str(tc_teacher), "--data", str(train),
                                      "--validation-data", str(dev), "-o", str(out), *QUICK])
    assert result.exit_code == 0, result.output
    assert "student entity_f1" in result.output
    return out
