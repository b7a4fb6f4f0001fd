"""Fixtures for general distillation: tiny pretrained-looking teachers and a small text corpus."""

from __future__ import annotations

import pytest
import torch

from tests import tiny


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)


def corpus_lines() -> list[str]:
    """Sixty short documents, one per line (the tiny vocabulary's words)."""
    texts = [text for text, _ in tiny.labelled_sentences()]
    return [f"{a} and {b}" if i % 3 == 0 else a for i, (a, b) in enumerate(zip(texts * 3, texts[1:] * 3))][:60]


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(corpus_lines()) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def mlm_teacher(tmp_path_factory):
    """A 4-layer tiny random BertForMaskedLM (with its MLM head) and its tokenizer."""
    from transformers import BertForMaskedLM

    folder = tmp_path_factory.mktemp("mlm-teacher")
    tokenizer = tiny.write_tokenizer(folder)
    torch.manual_seed(0)
    BertForMaskedLM(tiny.bert_config(len(tokenizer), layers=4)).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def encoder_teacher(tmp_path_factory):
    """A 4-layer tiny BERT encoder without any head (like the built-in minilm)."""
    return tiny.write_teacher(tmp_path_factory.mktemp("encoder-teacher"), layers=4, with_head=False)
