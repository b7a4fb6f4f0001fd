"""Fixtures for the question-answering tests: a tiny tokenizer and hand-written SQuAD files."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from tests import tiny
from tests.distill.tasks.question_answering import tiny_squad

# options shared by `distill teacher`, `student` and `run`; `run` also takes --teacher-epochs
COMMON = ["--task", "question-answering", "--epochs", "2", "--batch-size", "4", "--max-seq-len", "48",
          "--doc-stride", "16", "--max-question-len", "16", "--logging-steps", "1", "--validation-fraction", "0.34"]
QUICK = [*COMMON, "--teacher-epochs", "2"]


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


@pytest.fixture(scope="session")
def qa_teacher(tmp_path_factory):
    """A 4-layer tiny BERT encoder without a head, whose vocabulary covers the tiny SQuAD texts."""
    from transformers import BertModel

    folder = tmp_path_factory.mktemp("qa-teacher")
    tokenizer = tiny.write_tokenizer(folder, tiny_squad.all_texts())
    torch.manual_seed(0)
    BertModel(tiny.bert_config(len(tokenizer), layers=4)).save_pretrained(str(folder))
    return folder


def tiny_qa_run(teacher, data, out):
    """`distill run --task question-answering` with the quick options; returns the run directory."""
    from distill.cli import app

    result = CliRunner().invoke(app, ["run", "--teacher", str(teacher), "--data", str(data), "-o", str(out), *QUICK])
    assert result.exit_code == 0, result.output
    assert "student f1" in result.output
    return out


@pytest.fixture(scope="session")
def qa_run(qa_teacher, squad_v1, tmp_path_factory):
    """The run directory of `distill run --task question-answering` on the tiny teacher and data."""
    return tiny_qa_run(qa_teacher, squad_v1, tmp_path_factory.mktemp("qa-run"))
