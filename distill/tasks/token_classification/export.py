"""The token-classification side of `distill export`: the windows of the validation sentences,
the per-token logits as one array, entity F1 as the variants' quality, and the export chain's rows.

A batch's logits are packed into one float32 array [windows, max_seq_len, tags] with zeros at
padding positions (and the columns beyond a batch's padded length), so the shared parity code
compares every real position (max |onnx - torch|) and the argmax tag at every position of the
padded windows (`label_agreement`). The variants' validation also carries `word_agreement`: the
share of validation words given the same tag as by the PyTorch student.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from distill.export.chain import chain_of, onnx_entry, pytorch_entry, timing_batches
from distill.export.chain_report import quality_row
from distill.export.config import ExportConfig, Student
from distill.export.inputs import Batch, make_batches
from distill.export.parity import Outputs, collect
from distill.export.variants import Reference
from distill.tasks.token_classification.data import Sentence
from distill.tasks.token_classification.evaluate import tag_quality
from distill.tasks.token_classification.features import TokenWindows, WindowConfig, make_windows, word_tags
from distill.tasks.token_classification.models import tag_names
from distill.teacher import load_tokenizer

OUTPUT = "logits"


@dataclass(frozen=True)
class TokenInputs:
    sentences: list[Sentence]
    windows: TokenWindows
    encoded: list[list[int]]  # token ids per window
    batches: list[Batch]
    pad_id: int


def prepare_token_inputs(student: Student, sentences: list[Sentence], config: ExportConfig) -> TokenInputs:
    """The windows of the student's validation sentences, in mixed-length batches."""
    if not sentences:
        raise ValueError(f"{student.folder}: no validation sentences")
    tokenizer = load_tokenizer(str(student.folder))
    windows = make_windows(tokenizer, sentences, student.labels,
                           WindowConfig(student.max_seq_len, int(student.info["doc_stride"])))
    pad_id = tokenizer.pad_token_id or 0
    batches = make_batches(windows.input_ids, config.batch_size, pad_id, config.seed)
    return TokenInputs(sentences, windows, windows.input_ids, batches, pad_id)


def token_array(logits: np.ndarray, mask: np.ndarray, width: int) -> np.ndarray:
    """[batch, width, tags]: the logits at real positions, zeros elsewhere."""
    out = np.zeros((logits.shape[0], width, logits.shape[2]), dtype=np.float32)
    view = out[:, : logits.shape[1]]
    real = mask.astype(bool)
    view[real] = np.asarray(logits, dtype=np.float32)[real]
    return out


def torch_token_runner(model: Any, width: int) -> Callable[[Batch], np.ndarray]:
    import torch

    def run(batch: Batch) -> np.ndarray:
        with torch.inference_mode():
            out = model(input_ids=torch.from_numpy(batch.input_ids), attention_mask=torch.from_numpy(batch.attention_mask))
        return token_array(out.logits.float().numpy(), batch.attention_mask, width)

    return run


def ort_token_runner(width: int) -> Callable[[Any], Callable[[Batch], np.ndarray]]:
    """For a session, a callable running it on a `Batch` into the packed logits array."""
    def for_session(session: Any) -> Callable[[Batch], np.ndarray]:
        def run(batch: Batch) -> np.ndarray:
            (logits,) = session.run([OUTPUT], batch.feeds())
            return token_array(logits, batch.attention_mask, width)

        return run

    return for_session


def entity_quality(inputs: TokenInputs, labels: list[str]) -> Callable[[Outputs], dict[str, float]]:
    """Entity precision / recall / F1 of the tags read from packed outputs (tags in `labels` order)."""
    return lambda outputs: tag_quality(inputs.sentences, inputs.windows, outputs.logits, labels)


def token_reference(student: Student, inputs: TokenInputs) -> Reference:
    width = student.max_seq_len
    outputs = collect(torch_token_runner(student.model, width), inputs.batches)
    reference_tags = word_tags(inputs.windows, outputs.logits, student.labels)

    def quality(candidate: Outputs) -> dict[str, float]:
        tags = word_tags(inputs.windows, candidate.logits, student.labels)
        same = [a == b for ours, theirs in zip(tags, reference_tags) for a, b in zip(ours, theirs)]
        return {**entity_quality(inputs, student.labels)(candidate), "word_agreement": float(np.mean(same))}

    return Reference(student.model, inputs.batches, outputs, (OUTPUT,), ort_token_runner(width), quality, "entity_f1")


def _pytorch(name: str, folder: Path, student: Student, inputs: TokenInputs, config: ExportConfig, width: int):
    model = student.task.load_model(str(folder)).eval()
    run = torch_token_runner(model, width)
    outputs = collect(run, inputs.batches)
    timing = timing_batches(inputs.encoded, inputs.pad_id, config.latency_batch_sizes)
    return pytorch_entry(name, model, folder, run, outputs.predictions, timing), (outputs, tag_names(model.config))


def chain_rows(student: Student, inputs: TokenInputs, variants: dict, config: ExportConfig) -> tuple[list[dict], int]:
    """teacher -> student -> ONNX variants on the same windows: entity scores and latency per model."""
    width = student.max_seq_len
    timing = timing_batches(inputs.encoded, inputs.pad_id, config.latency_batch_sizes)
    measured = chain_of(student, variants, config,
                        lambda name, folder: _pytorch(name, folder, student, inputs, config, width),
                        lambda built: (onnx_entry(built, ort_token_runner(width), timing, config.threads),
                                       (built.outputs, student.labels)))
    rows = [quality_row(entry, entity_quality(inputs, labels)(outputs), config.latency)
            for entry, (outputs, labels) in measured]
    return rows, len(inputs.sentences)
