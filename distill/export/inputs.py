"""The inputs every export check runs on: the student's validation examples (read by its task),
tokenised the way the service will tokenise them (`tokenizers` alone, from `tokenizer.json`), in
right-padded batches.

Batches are drawn from a seeded shuffle, so each batch mixes short and long examples and the
padded length differs from batch to batch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Batch:
    input_ids: np.ndarray  # int64 [batch, padded length]
    attention_mask: np.ndarray  # int64 [batch, padded length], 1 for tokens, 0 for padding
    indices: np.ndarray  # position of each row in the validation set
    token_type_ids: np.ndarray | None = None  # segments of text pairs, for a BERT teacher only

    def feeds(self) -> dict[str, np.ndarray]:
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask}


def load_tokenizer(path: Path, max_seq_len: int):
    """The fast tokenizer from `tokenizer.json`, truncating to `max_seq_len`, padding off."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_seq_len)
    tokenizer.no_padding()
    return tokenizer


def encode(tokenizer, texts: list[str]) -> list[list[int]]:
    return [enc.ids for enc in tokenizer.encode_batch(texts)]


def encode_pairs(tokenizer, texts: list[str], pairs: list[str]) -> tuple[list[list[int]], list[list[int]]]:
    """Token ids and segment ids of `[CLS] text [SEP] pair [SEP]` (the longer text truncated first)."""
    encodings = tokenizer.encode_batch(list(zip(texts, pairs)))
    return [enc.ids for enc in encodings], [enc.type_ids for enc in encodings]


def pad_batch(rows: list[list[int]], indices: list[int], pad_id: int,
              types: list[list[int]] | None = None, width: int | None = None) -> Batch:
    """`rows` right-padded to `width` (default: the longest row)."""
    width = width or max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    segments = None if types is None else np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
        if segments is not None:
            segments[i, : len(row)] = types[i]
    return Batch(ids, mask, np.asarray(indices, dtype=np.int64), segments)


def make_batches(
    encoded: list[list[int]], batch_size: int, pad_id: int, seed: int = 0, types: list[list[int]] | None = None,
) -> list[Batch]:
    """Right-padded batches over a seeded shuffle of all examples (lengths mix within a batch);
    with `types` (segment ids of pairs) each batch carries its token_type_ids too."""
    order = list(range(len(encoded)))
    random.Random(seed).shuffle(order)
    batches = []
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        segments = None if types is None else [types[i] for i in chosen]
        batches.append(pad_batch([encoded[i] for i in chosen], chosen, pad_id, segments))
    return batches


def fixed_batch(encoded: list[list[int]], size: int, pad_id: int) -> Batch:
    """The first `size` examples (cycled when there are fewer) as one batch, for timing."""
    chosen = [i % len(encoded) for i in range(size)]
    return pad_batch([encoded[i] for i in chosen], chosen, pad_id)


def pad_token_id(tokenizer, fallback: int = 0) -> int:
    for token in ("[PAD]", "<pad>"):
        found = tokenizer.token_to_id(token)
        if found is not None:
            return int(found)
    return fallback
