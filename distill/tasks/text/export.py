"""The text tasks' side of `distill export`: the validation examples (texts or text pairs)
tokenised as the service will tokenise them, the logits as the reference, and the export chain's
rows, each model scored by the task's `Scoring` (classification: argmax and accuracy / F1 /
Matthews; regression: the one output and Pearson / Spearman). A BERT teacher in the chain is given
the segments of pairs; the student and its ONNX graphs take input_ids and attention_mask only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from distill.export.chain import chain_of, onnx_entry, pytorch_entry, timing_batches
from distill.export.chain_report import quality_row
from distill.export.config import ExportConfig, Student
from distill.export.graph import ort_runner, torch_runner
from distill.export.inputs import Batch, encode, encode_pairs, load_tokenizer, make_batches, pad_token_id
from distill.export.parity import collect
from distill.export.variants import Reference
from distill.jsonl import iter_jsonl

OUTPUT = "logits"


@dataclass(frozen=True)
class Scoring:
    """How a text task turns a model's logits into predictions and predictions into metrics."""

    predict: Callable[[Any, np.ndarray], np.ndarray]  # (PyTorch model or None for ONNX, logits) -> predictions
    metrics: Callable[[np.ndarray, np.ndarray], dict[str, float]]  # (gold, predictions) -> metrics
    headline: str  # the metric the INT8 / fp16 verdicts use


@dataclass(frozen=True)
class ValidationSet:
    texts: list[str]
    pairs: list[str] | None  # second texts of pairs
    labels: np.ndarray  # class index (logits order) or gold score per example


@dataclass(frozen=True)
class Inputs:
    validation: ValidationSet
    encoded: list[list[int]]
    types: list[list[int]] | None  # segment ids of pairs
    batches: list[Batch]
    pad_id: int


def read_validation(path: Path, label: Callable[[Any], Any], limit: int | None = None) -> ValidationSet:
    """Read validation.jsonl ({"text", optional "text_pair", "label"} per line), each label
    converted by `label` (which raises ValueError for a label the model does not know)."""
    texts, pairs, labels = [], [], []
    for number, row in iter_jsonl(path):
        try:
            labels.append(label(row["label"]))
        except ValueError as error:
            raise ValueError(f"{path}:{number}: {error}") from None
        texts.append(row["text"])
        pairs.append(row.get("text_pair"))
        if limit is not None and len(texts) >= limit:
            break
    if not texts:
        raise ValueError(f"{path}: no validation examples")
    has_pairs = pairs[0] is not None
    return ValidationSet(texts, pairs if has_pairs else None, np.asarray(labels))


def tokenised(tokenizer, validation: ValidationSet) -> tuple[list[list[int]], list[list[int]] | None]:
    if validation.pairs is None:
        return encode(tokenizer, validation.texts), None
    return encode_pairs(tokenizer, validation.texts, validation.pairs)


def prepare_inputs(folder: Path, student: Student, validation: ValidationSet, config: ExportConfig) -> Inputs:
    """The validation split tokenised with the tokenizer.json at `folder`, in mixed-length batches."""
    tokenizer = load_tokenizer(folder / "tokenizer.json", student.max_seq_len)
    encoded, types = tokenised(tokenizer, validation)
    pad_id = pad_token_id(tokenizer, student.model.config.pad_token_id or 0)
    batches = make_batches(encoded, config.batch_size, pad_id, config.seed, types)
    return Inputs(validation, encoded, types, batches, pad_id)


def reference(student: Student, inputs: Inputs, scoring: Scoring) -> Reference:
    """The PyTorch student's logits on the validation batches, which every variant must match."""
    outputs = collect(torch_runner(student.model, OUTPUT), inputs.batches)
    labels = inputs.validation.labels
    return Reference(student.model, inputs.batches, outputs, (OUTPUT,), lambda session: ort_runner(session, OUTPUT),
                     lambda candidate: scoring.metrics(labels, scoring.predict(None, candidate.logits)),
                     scoring.headline)


def _pytorch(name: str, folder: Path, student: Student, inputs: Inputs, config: ExportConfig, scoring: Scoring):
    """Load a model from `folder` and run it on the validation split (its own tokenizer)."""
    model = student.task.load_model(str(folder)).eval()
    tokenizer_file = folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        tokenizer_file = student.folder / "tokenizer.json"
    tokenizer = load_tokenizer(tokenizer_file, student.max_seq_len)
    encoded, types = tokenised(tokenizer, inputs.validation)
    pad_id = pad_token_id(tokenizer, model.config.pad_token_id or 0)
    run = torch_runner(model, OUTPUT)
    outputs = collect(run, make_batches(encoded, config.batch_size, pad_id, config.seed, types))
    return pytorch_entry(name, model, folder, run, scoring.predict(model, outputs.logits),
                         timing_batches(encoded, pad_id, config.latency_batch_sizes))


def _onnx(built, timing: dict[int, Batch], config: ExportConfig, scoring: Scoring):
    entry = onnx_entry(built, lambda session: ort_runner(session, OUTPUT), timing, config.threads)
    return replace(entry, predictions=scoring.predict(None, built.outputs.logits))


def chain_rows(student: Student, inputs: Inputs, variants: dict, config: ExportConfig,
               scoring: Scoring) -> tuple[list[dict], int]:
    """teacher -> student -> ONNX variants on the validation examples: the task's metrics, latency."""
    timing = timing_batches(inputs.encoded, inputs.pad_id, config.latency_batch_sizes)
    entries = chain_of(student, variants, config,
                       lambda name, folder: _pytorch(name, folder, student, inputs, config, scoring),
                       lambda built: _onnx(built, timing, config, scoring))
    labels = inputs.validation.labels
    rows = [quality_row(e, scoring.metrics(labels, e.predictions), config.latency) for e in entries]
    return rows, int(len(labels))

