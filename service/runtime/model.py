"""One loaded model as the batcher runs it: tokenizers, ONNX Runtime session and what was chosen
at load time (`service.runtime.build` builds it). `run` pads a list of token-id sequences into one
tensor and calls the session. Nothing here touches asyncio: `service.batching.batcher` calls `run`
on the model's own worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from modelfolder.manifest import Manifest, ModelFolderError
from modelfolder.variants import VariantCheck
from service.batching.shapes import bucket_length, bucket_size


@dataclass
class ModelRuntime:
    """A model ready to run: tokenizers, ORT session, and what was chosen at load time."""

    name: str
    folder: Path
    manifest: Manifest
    variant: str
    provider: str
    session: ort.InferenceSession | None  # None in an HTTP worker whose models run in the model process
    tokenizer: Tokenizer  # no truncation: tells the real length of a text
    truncating_tokenizer: Tokenizer  # truncates to max_seq_len, keeping special tokens
    pad_id: int
    sep_id: int | None = None  # separates question and context (token_type_ids of QA models)
    checks: dict[str, VariantCheck] = field(default_factory=dict)  # start-up checks, by variant
    fixed_shapes: bool = False  # pad batches to a few shapes (service.batching.shapes): on CUDA
    second_segment: bool = False  # token_type_ids 1 after the first [SEP] (the task's `segments`)

    @property
    def max_seq_len(self) -> int:
        return self.manifest.max_seq_len

    @property
    def task(self) -> str:
        return self.manifest.task

    def encode(self, texts: list, truncation: bool) -> list[Encoding]:
        """Encodings of texts (strings or (text, text_pair) tuples)."""
        tokenizer = self.truncating_tokenizer if truncation else self.tokenizer
        if len(texts) == 1:  # the batch call costs a single text more (its thread-pool set-up)
            text = texts[0]
            pair = isinstance(text, tuple)
            return [tokenizer.encode(text[0] if pair else text, text[1] if pair else None, add_special_tokens=True)]
        return tokenizer.encode_batch(texts, add_special_tokens=True)

    def encode_pairs(self, pairs: list[tuple[str, str]]) -> list[Encoding]:
        """Whole (untruncated) encodings of (question, context) pairs, special tokens included."""
        return self.tokenizer.encode_batch(pairs, add_special_tokens=True)

    def run(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """Pad, stack and run. Returns the output for every sequence: (batch, labels) logits for a
        classifier; (batch, 2, length) start and end logits for question answering; (batch, length,
        labels) tag logits for token classification."""
        count, length = len(sequences), max(len(s) for s in sequences)
        rows = count
        if self.fixed_shapes:
            rows, length = bucket_size(count), bucket_length(length, self.max_seq_len)
        ids = np.full((rows, length), self.pad_id, dtype=np.int64)
        mask = np.zeros((rows, length), dtype=np.int64)
        for row in range(rows):  # rows past `count` repeat the first one; their outputs are dropped
            seq = sequences[row if row < count else 0]
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.manifest.inputs:
            segments = self.second_segment
            feeds["token_type_ids"] = second_segment(ids, mask, self.sep_id) if segments else np.zeros_like(ids)
        outputs = [np.asarray(o[:count], dtype=np.float32) for o in self.session.run(self.manifest.outputs, feeds)]
        return outputs[0] if len(outputs) == 1 else np.stack(outputs, axis=1)


PROBE_TOKEN = 999  # a token id unlikely to be special; clipped to the vocabulary


def probe_tokens(runtime: ModelRuntime, length: int, size: int = 1) -> list[list[int]]:
    """`size` sequences of `length` ordinary tokens, to try the graph on (capacity, warm-up)."""
    token = min(PROBE_TOKEN, runtime.tokenizer.get_vocab_size() - 1)
    return [[token] * length] * size


def _runs_at(runtime: ModelRuntime, length: int) -> Exception | None:
    try:
        runtime.run(probe_tokens(runtime, length))
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidArgument types
        return exc
    return None


def check_capacity(runtime: ModelRuntime) -> None:
    """Refuse a graph that cannot run at the manifest's max_seq_len (e.g. fewer position
    embeddings), naming the folder, both lengths and the error."""
    wanted = runtime.max_seq_len
    failure = _runs_at(runtime, wanted)
    if failure is None:
        return
    works, fails = 0, wanted  # bisect the longest input the graph accepts
    while fails - works > 1:
        middle = (works + fails) // 2
        works, fails = (middle, fails) if _runs_at(runtime, middle) is None else (works, middle)
    first_line = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
    raise ModelFolderError(
        f"{runtime.folder}: {runtime.manifest.variants[runtime.variant].file} runs on at most {works} "
        f"tokens, but manifest.json says max_seq_len {wanted} ({type(failure).__name__}: {first_line[:300]})"
    )


def second_segment(ids: np.ndarray, mask: np.ndarray, sep_id: int | None) -> np.ndarray:
    """token_type_ids of [CLS] A [SEP] B [SEP] rows: 1 on B and its [SEP], 0 elsewhere (padding too)."""
    if sep_id is None:
        return np.zeros_like(ids)
    seps_before = np.cumsum(ids == sep_id, axis=1) - (ids == sep_id)
    return ((seps_before >= 1) & (mask == 1)).astype(np.int64)
