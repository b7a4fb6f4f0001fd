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


def pad_batch(rows: list[list[int]], indices: list[int], pad_id: int) -> Batch:
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return Batch(ids, mask, np.asarray(indices, dtype=np.int64))


def make_batches(
    encoded: list[list[int]], batch_size: int, pad_id: int, seed: int = 0
) -> list[Batch]:
    """Right-padded batches over a seeded shuffle of all examples (lengths mix within a batch)."""
    order = list(range(len(encoded)))
    random.Random(seed).shuffle(order)
    batches = []
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        batches.append(pad_batch([encoded[i] for i in chosen], chosen, pad_id))
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
