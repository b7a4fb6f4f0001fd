"""The embedding side of `distill export`: the held-out sentences (and the STS pairs' sentences,
when the student carries them) tokenised as the service will, the pooled `embedding` output as the
reference every variant must match (parity on the pooled, normalised output), and quality as the
STS Spearman and the mean cosine to the teacher's embeddings.

Embeddings carry no labels: each batch's [batch, dim] output is packed as [batch, dim, 1], so the
shared parity code's label agreement (an argmax over the last axis) holds by construction and
parity rests on max |onnx - torch| alone. The mean cosine is taken against the teacher's
embeddings when the teacher can be loaded, else against the PyTorch student's (said in the notes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from distill.export.chain import chain_of, onnx_entry, pytorch_entry, teacher_folder, timing_batches
from distill.export.chain_report import quality_row
from distill.export.config import ExportConfig, Student
from distill.export.inputs import Batch, encode, load_tokenizer, make_batches, pad_token_id
from distill.export.parity import Outputs, collect
from distill.export.variants import Reference
from distill.run_report import STUDENT_ROW, TEACHER_ROW
from distill.tasks.embeddings.sts import StsPairs, mean_cosine, sts_spearman

log = logging.getLogger(__name__)
OUTPUT = "embedding"


@dataclass(frozen=True)
class EmbeddingInputs:
    sentences: list[str]  # held-out sentences, then the STS pairs' sentences
    held_out: int  # how many of `sentences` are held-out sentences
    sts: StsPairs | None
    encoded: list[list[int]]
    batches: list[Batch]
    pad_id: int
    teacher: Outputs | None  # the teacher's embeddings of every sentence (None: no teacher found)

    def teacher_held_out(self) -> np.ndarray | None:
        return None if self.teacher is None else self.teacher.logits[: self.held_out, :, 0]


def packed(embeddings: np.ndarray) -> np.ndarray:
    return np.asarray(embeddings, dtype=np.float32)[:, :, None]


def torch_embedding_runner(model: Any) -> Callable[[Batch], np.ndarray]:
    import torch

    def run(batch: Batch) -> np.ndarray:
        with torch.inference_mode():
            out = model(input_ids=torch.from_numpy(batch.input_ids), attention_mask=torch.from_numpy(batch.attention_mask))
        return packed(out.embedding.float().numpy())

    return run


def ort_embedding_runner(session: Any) -> Callable[[Batch], np.ndarray]:
    return lambda batch: packed(session.run([OUTPUT], batch.feeds())[0])


def prepare_inputs(staging: Path, student: Student, held_out: list[str], sts: StsPairs | None,
                   config: ExportConfig) -> EmbeddingInputs:
    """The sentences tokenised with the folder's tokenizer.json, in mixed-length batches, and the
    teacher's embeddings of the held-out ones (None when no teacher can be loaded)."""
    sentences = held_out + (sts.sentences() if sts is not None else [])
    tokenizer = load_tokenizer(staging / "tokenizer.json", student.max_seq_len)
    encoded = encode(tokenizer, sentences)
    pad_id = pad_token_id(tokenizer, student.model.config.pad_token_id or 0)
    batches = make_batches(encoded, config.batch_size, pad_id, config.seed)
    inputs = EmbeddingInputs(sentences, len(held_out), sts, encoded, batches, pad_id, None)
    return EmbeddingInputs(**{**vars(inputs), "teacher": _teacher_embeddings(student, inputs, config)})


def _teacher_embeddings(student: Student, inputs: EmbeddingInputs, config: ExportConfig) -> Outputs | None:
    """The teacher's embeddings, measured once: the variants' mean cosine and the chain's teacher row use them."""
    folder = teacher_folder(config, student.info)
    if folder is None:
        log.info("no teacher checkpoint found: the mean cosine is taken against the PyTorch student")
        return None
    model = student.task.load_model(str(folder)).eval()
    return collect(torch_embedding_runner(model), inputs.batches)


def quality_of(inputs: EmbeddingInputs, reference: np.ndarray) -> Callable[[Outputs], dict[str, float]]:
    """mean cosine of the held-out embeddings to `reference`, and the STS Spearman (with STS pairs)."""
    def score(outputs: Outputs) -> dict[str, float]:
        embeddings = outputs.logits[:, :, 0]
        scores = {"mean_cosine": mean_cosine(embeddings[: inputs.held_out], reference)}
        if inputs.sts is not None:
            scores["spearman"] = sts_spearman(inputs.sts, embeddings[inputs.held_out:])
        return scores

    return score


def _cosine_reference(inputs: EmbeddingInputs, student_outputs: Outputs) -> np.ndarray:
    held = inputs.teacher_held_out()
    return held if held is not None else student_outputs.logits[: inputs.held_out, :, 0]


def embedding_reference(student: Student, inputs: EmbeddingInputs) -> Reference:
    outputs = collect(torch_embedding_runner(student.model), inputs.batches)
    metric = student.info.get("headline", "spearman" if inputs.sts is not None else "mean_cosine")
    return Reference(student.model, inputs.batches, outputs, (OUTPUT,), ort_embedding_runner,
                     quality_of(inputs, _cosine_reference(inputs, outputs)), metric)


def _pytorch(name: str, folder: Path, student: Student, inputs: EmbeddingInputs, timing: dict[int, Batch]):
    model = student.task.load_model(str(folder)).eval()
    run = torch_embedding_runner(model)
    measured = name == TEACHER_ROW and inputs.teacher is not None
    outputs = inputs.teacher if measured else collect(run, inputs.batches)
    return pytorch_entry(name, model, folder, run, outputs.predictions, timing), outputs


def chain_rows(student: Student, inputs: EmbeddingInputs, variants: dict, config: ExportConfig) -> tuple[list[dict], int]:
    """teacher -> student -> ONNX variants on the same sentences: Spearman, mean cosine, latency."""
    timing = timing_batches(inputs.encoded, inputs.pad_id, config.latency_batch_sizes)
    measured = chain_of(student, variants, config,
                        lambda name, folder: _pytorch(name, folder, student, inputs, timing),
                        lambda built: (onnx_entry(built, ort_embedding_runner, timing, config.threads), built.outputs))
    student_outputs = next(outputs for entry, outputs in measured if entry.name == STUDENT_ROW)
    quality = quality_of(inputs, _cosine_reference(inputs, student_outputs))
    rows = [quality_row(entry, quality(outputs), config.latency) for entry, outputs in measured]
    return rows, len(inputs.sentences)
