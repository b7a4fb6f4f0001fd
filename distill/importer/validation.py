"""What an imported checkpoint is checked on, in the file its task reads (`validation_file`), and
the task settings its distill_info.json records. Without --validation-data the built-in inputs
(`distill.importer.samples`) are labelled with the checkpoint's own predictions (classification,
regression, token classification), so every variant is judged by its agreement with the PyTorch
model; question answering uses the probes' own answers, embeddings their cosine to PyTorch."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from distill.importer.samples import movie_sentences, qa_probes
from distill.jsonl import write_jsonl
from distill.tasks.question_answering.features import WindowConfig
from distill.tasks.question_answering.metrics import SpanConfig
from distill.tasks.question_answering.options import QAOptions, span_info
from modelfolder.manifest import (
    CLASSIFICATION,
    FEATURE_EXTRACTION,
    QUESTION_ANSWERING,
    REGRESSION,
    TOKEN_CLASSIFICATION,
)

QA_MAX_SEQ_LEN = 384  # the question-answering pipeline's window length, when the model allows it
TEXT_MAX_SEQ_LEN = 512
TOKEN_DOC_STRIDE = 32


@dataclass(frozen=True)
class Preparation:
    """A task's settings for distill_info.json and its built-in validation rows."""

    settings: Callable[[int], dict[str, Any]]  # model max_seq_len -> distill_info entries
    rows: Callable[[Any, Any, int, int], list[dict]]  # (model, tokenizer, max_seq_len, size) -> rows
    segments: bool = False  # inputs are text pairs, whose second text a model with token types must be told


def _logits(model, tokenizer, texts, max_seq_len: int, **kwargs) -> tuple[torch.Tensor, Any]:
    encoded = tokenizer(texts, truncation=True, max_length=max_seq_len, padding=True, return_tensors="pt",
                        return_token_type_ids=False, **kwargs)
    with torch.inference_mode():
        out = model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])
    return out.logits.float(), encoded


def _labelled(model, tokenizer, max_seq_len: int, size: int) -> list[dict]:
    texts = movie_sentences(size)
    predicted = _logits(model, tokenizer, texts, max_seq_len)[0].argmax(-1).tolist()
    names = model.config.id2label
    return [{"text": text, "label": names[label]} for text, label in zip(texts, predicted)]


def _scored(model, tokenizer, max_seq_len: int, size: int) -> list[dict]:
    texts = movie_sentences(size)
    scores = _logits(model, tokenizer, texts, max_seq_len)[0][:, 0].tolist()
    return [{"text": text, "label": score} for text, score in zip(texts, scores)]


def _tagged(model, tokenizer, max_seq_len: int, size: int) -> list[dict]:
    """Each word's tag: the model's best tag at the word's first sub-token."""
    sentences = [text.split() for text in movie_sentences(size)]
    logits, encoded = _logits(model, tokenizer, sentences, max_seq_len, is_split_into_words=True)
    names = model.config.id2label
    rows = []
    for row, words in enumerate(sentences):
        best, tags = logits[row].argmax(-1).tolist(), {}
        for position, word in enumerate(encoded.word_ids(row)):
            if word is not None and word not in tags:
                tags[word] = names[best[position]]
        kept = [word for word in range(len(words)) if word in tags]  # words cut by truncation are left out
        rows.append({"tokens": [words[w] for w in kept], "tags": [tags[w] for w in kept]})
    return [row for row in rows if row["tokens"]]


def _sentences(model, tokenizer, max_seq_len: int, size: int) -> list[dict]:
    return [{"text": text} for text in movie_sentences(size)]


def _probes(model, tokenizer, max_seq_len: int, size: int) -> list[dict]:
    return qa_probes()


def _text_settings(max_seq_len: int) -> dict[str, Any]:
    return {"max_seq_len": min(max_seq_len, TEXT_MAX_SEQ_LEN), "pairs": False}


def _qa_settings(max_seq_len: int) -> dict[str, Any]:
    length = min(max_seq_len, QA_MAX_SEQ_LEN)
    windows = WindowConfig(length, min(WindowConfig.doc_stride, length // 4), min(WindowConfig.max_question_len, length // 4))
    return span_info(QAOptions(windows, SpanConfig(max_answer_len=15)))


def _token_settings(max_seq_len: int) -> dict[str, Any]:
    length = min(max_seq_len, TEXT_MAX_SEQ_LEN)
    return {"max_seq_len": length, "doc_stride": min(TOKEN_DOC_STRIDE, length // 4), "label_scheme": "IOB2"}


def _embedding_settings(max_seq_len: int) -> dict[str, Any]:
    return {"max_seq_len": min(max_seq_len, TEXT_MAX_SEQ_LEN), "headline": "mean_cosine", "sts": False}


PREPARATIONS = {
    CLASSIFICATION: Preparation(_text_settings, _labelled),
    REGRESSION: Preparation(_text_settings, _scored),
    QUESTION_ANSWERING: Preparation(_qa_settings, _probes, segments=True),
    TOKEN_CLASSIFICATION: Preparation(_token_settings, _tagged),
    FEATURE_EXTRACTION: Preparation(_embedding_settings, _sentences),
}


def write_validation(target: Path, given: Path | None, model, tokenizer, preparation: Preparation,
                     max_seq_len: int, size: int) -> str:
    """Write the validation file; returns where its rows came from, in words."""
    if given is not None:
        if not Path(given).is_file():
            raise FileNotFoundError(f"{given}: validation data not found")
        shutil.copyfile(given, target)
        return str(given)
    write_jsonl(target, preparation.rows(model, tokenizer, max_seq_len, size))
    return "built-in sample, labelled by the checkpoint's own predictions"
