"""The question-answering side of `distill export`: the validation windows, the two span outputs
compared as one array, exact match / F1 as the variants' quality, and the export chain's rows.

Both outputs of a batch are packed into one float32 array [windows, 2 (start, end), max_seq_len]
with padding positions (and the columns beyond a batch's padded length) set to -1e4, so the
shared parity code compares every real position of both outputs (max |onnx - torch|) and the
argmax start and end of every window (`label_agreement` must be 1).
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
from distill.tasks.question_answering.data import QAExample
from distill.tasks.question_answering.features import Windows, make_windows
from distill.tasks.question_answering.losses import PADDING_LOGIT
from distill.tasks.question_answering.metrics import best_answers, squad_metrics
from distill.tasks.question_answering.options import QAOptions
from distill.teacher import load_tokenizer

QA_OUTPUTS = ("start_logits", "end_logits")


@dataclass(frozen=True)
class QAInputs:
    examples: list[QAExample]
    windows: Windows
    options: QAOptions
    encoded: list[list[int]]  # token ids per window
    batches: list[Batch]
    pad_id: int


def prepare_qa_inputs(student: Student, examples: list[QAExample], options: QAOptions,
                      config: ExportConfig) -> QAInputs:
    """The windows of the student's validation questions, in mixed-length batches."""
    if not examples:
        raise ValueError(f"{student.folder}: no validation questions")
    tokenizer = load_tokenizer(str(student.folder))
    windows = make_windows(tokenizer, examples, options.windows)
    pad_id = tokenizer.pad_token_id or 0
    batches = make_batches(windows.input_ids, config.batch_size, pad_id, config.seed)
    return QAInputs(examples, windows, options, windows.input_ids, batches, pad_id)


def span_array(start: np.ndarray, end: np.ndarray, mask: np.ndarray, width: int) -> np.ndarray:
    """[batch, 2, width]: start and end logits at real positions, PADDING_LOGIT elsewhere."""
    out = np.full((start.shape[0], 2, width), PADDING_LOGIT, dtype=np.float32)
    real = mask.astype(bool)
    for row, logits in enumerate((start, end)):
        view = out[:, row, : logits.shape[1]]
        view[real] = np.asarray(logits, dtype=np.float32)[real]
    return out


def torch_span_runner(model: Any, width: int) -> Callable[[Batch], np.ndarray]:
    import torch

    def run(batch: Batch) -> np.ndarray:
        with torch.inference_mode():
            out = model(input_ids=torch.from_numpy(batch.input_ids),
                        attention_mask=torch.from_numpy(batch.attention_mask))
        return span_array(out.start_logits.float().numpy(), out.end_logits.float().numpy(),
                          batch.attention_mask, width)

    return run


def ort_span_runner(width: int) -> Callable[[Any], Callable[[Batch], np.ndarray]]:
    """For a session, a callable running it on a `Batch` into the packed span array."""
    def for_session(session: Any) -> Callable[[Batch], np.ndarray]:
        def run(batch: Batch) -> np.ndarray:
            start, end = session.run(list(QA_OUTPUTS), batch.feeds())
            return span_array(start, end, batch.attention_mask, width)

        return run

    return for_session


def span_quality(inputs: QAInputs) -> Callable[[Outputs], dict[str, float]]:
    """Exact match and F1 (fractions) of the best spans read from packed outputs."""
    def score(outputs: Outputs) -> dict[str, float]:
        starts, ends = outputs.logits[:, 0, :], outputs.logits[:, 1, :]
        answers = best_answers(inputs.examples, inputs.windows, starts, ends, inputs.options.spans)
        return squad_metrics(inputs.examples, answers)

    return score


def qa_reference(student: Student, inputs: QAInputs) -> Reference:
    width = student.max_seq_len
    outputs = collect(torch_span_runner(student.model, width), inputs.batches)
    return Reference(student.model, inputs.batches, outputs, QA_OUTPUTS, ort_span_runner(width),
                     span_quality(inputs), "f1")


def _pytorch(name: str, folder: Path, student: Student, inputs: QAInputs, config: ExportConfig, width: int):
    model = student.task.load_model(str(folder)).eval()
    run = torch_span_runner(model, width)
    outputs = collect(run, inputs.batches)
    timing = timing_batches(inputs.encoded, inputs.pad_id, config.latency_batch_sizes)
    return pytorch_entry(name, model, folder, run, outputs.predictions, timing), outputs


def chain_rows(student: Student, inputs: QAInputs, variants: dict, config: ExportConfig) -> tuple[list[dict], int]:
    """teacher -> student -> ONNX variants on the same windows: EM/F1 and latency per model."""
    width = student.max_seq_len
    timing = timing_batches(inputs.encoded, inputs.pad_id, config.latency_batch_sizes)
    measured = chain_of(student, variants, config,
                        lambda name, folder: _pytorch(name, folder, student, inputs, config, width),
                        lambda built: (onnx_entry(built, ort_span_runner(width), timing, config.threads), built.outputs))
    quality = span_quality(inputs)
    rows = [quality_row(entry, quality(outputs), config.latency) for entry, outputs in measured]
    return rows, len(inputs.examples)
