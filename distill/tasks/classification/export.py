"""The text-classification side of `distill export`: the validation texts tokenised as the service
will tokenise them, the logits as the reference, accuracy / macro-F1 as the variants' quality, and
the export chain's rows (each PyTorch model with its own tokenizer)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from distill.export.chain import chain_of, onnx_entry, pytorch_entry, timing_batches
from distill.export.config import ExportConfig, Student
from distill.export.graph import ort_runner, torch_runner
from distill.export.inputs import Batch, encode, load_tokenizer, make_batches, pad_token_id
from distill.export.parity import collect
from distill.export.report import quality_row
from distill.export.variants import Reference
from distill.jsonl import iter_jsonl
from distill.tasks.classification.metrics import accuracy, classification_metrics

OUTPUT = "logits"


@dataclass(frozen=True)
class ValidationSet:
    texts: list[str]
    labels: np.ndarray  # label index (logits order) per text


@dataclass(frozen=True)
class Inputs:
    validation: ValidationSet
    encoded: list[list[int]]
    batches: list[Batch]
    pad_id: int


def read_validation(path: Path, labels: list[str], limit: int | None = None) -> ValidationSet:
    """Read `validation.jsonl` ({"text", "label"} per line); label names map to logits indices."""
    index = {name: i for i, name in enumerate(labels)}
    texts: list[str] = []
    ids: list[int] = []
    for number, row in iter_jsonl(path):
        if row["label"] not in index:
            raise ValueError(f"{path}:{number}: label {row['label']!r} is not one of {labels}")
        texts.append(row["text"])
        ids.append(index[row["label"]])
        if limit is not None and len(texts) >= limit:
            break
    if not texts:
        raise ValueError(f"{path}: no validation examples")
    return ValidationSet(texts=texts, labels=np.asarray(ids, dtype=np.int64))


def prepare_inputs(folder: Path, student: Student, validation_file: str, config: ExportConfig) -> Inputs:
    """Validation split tokenised with the tokenizer.json at `folder`, in mixed-length batches."""
    validation = read_validation(student.folder / validation_file, student.labels, config.max_validation_examples)
    tokenizer = load_tokenizer(folder / "tokenizer.json", student.max_seq_len)
    encoded = encode(tokenizer, validation.texts)
    pad_id = pad_token_id(tokenizer, student.model.config.pad_token_id or 0)
    batches = make_batches(encoded, config.batch_size, pad_id, config.seed)
    return Inputs(validation, encoded, batches, pad_id)


def reference(student: Student, inputs: Inputs) -> Reference:
    """The PyTorch student's logits on the validation batches, which every variant must match."""
    outputs = collect(torch_runner(student.model, OUTPUT), inputs.batches)
    labels = inputs.validation.labels
    return Reference(student.model, inputs.batches, outputs, (OUTPUT,), lambda session: ort_runner(session, OUTPUT),
                     lambda candidate: {"accuracy": accuracy(labels, candidate.predictions)}, "accuracy")


def _label_map(model: Any, labels: list[str]) -> np.ndarray:
    """Teacher logits index -> student label index (by name; by position if names differ)."""
    names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    if set(names) == set(labels):
        return np.asarray([labels.index(n) for n in names])
    return np.arange(len(names))


def _pytorch(name: str, folder: Path, student: Student, inputs: Inputs, config: ExportConfig):
    """Load a classifier from `folder` and run it on the validation split (its own tokenizer)."""
    model = student.task.load_model(str(folder)).eval()
    tokenizer_file = folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        tokenizer_file = student.folder / "tokenizer.json"
    tokenizer = load_tokenizer(tokenizer_file, student.max_seq_len)
    encoded = encode(tokenizer, inputs.validation.texts)
    pad_id = pad_token_id(tokenizer, model.config.pad_token_id or 0)
    run = torch_runner(model, OUTPUT)
    outputs = collect(run, make_batches(encoded, config.batch_size, pad_id, config.seed))
    predictions = _label_map(model, student.labels)[outputs.predictions]
    return pytorch_entry(name, model, folder, run, predictions,
                         timing_batches(encoded, pad_id, config.latency_batch_sizes))


def chain_rows(student: Student, inputs: Inputs, variants: dict, config: ExportConfig) -> tuple[list[dict], int]:
    """teacher -> student -> ONNX variants on the validation texts: accuracy, macro-F1, latency."""
    timing = timing_batches(inputs.encoded, inputs.pad_id, config.latency_batch_sizes)
    entries = chain_of(student, variants, config,
                       lambda name, folder: _pytorch(name, folder, student, inputs, config),
                       lambda built: onnx_entry(built, lambda session: ort_runner(session, OUTPUT), timing,
                                                config.threads))
    labels, count = inputs.validation.labels, len(student.labels)
    rows = [quality_row(e, classification_metrics(labels, e.predictions, count), config.latency) for e in entries]
    return rows, int(len(labels))
