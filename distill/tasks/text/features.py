"""Tokenised texts and text pairs for every text task.

A pair becomes `[CLS] a [SEP] b [SEP]`; when it is longer than `max_seq_len` the longer of the two
texts loses a token at a time (`truncation="longest_first"`), so a short question keeps its words
when a long passage is cut. Pairs carry `token_type_ids` (1 on `b` and its closing [SEP]) for a
BERT teacher, which has a segment embedding; models whose `forward` takes no token types (the
DistilBERT student) are given only `input_ids` and `attention_mask` (`distill.student.model_inputs`).
Single texts carry no token types at all (a BERT teacher then uses segment 0 throughout, as before
pairs existed).
"""

from __future__ import annotations

import torch

from distill.tasks.text.data import Split


def encode(tokenizer, split: Split, max_seq_len: int, indices: list[int] | None = None, **kwargs):
    """The tokenizer's encoding of the examples at `indices` (all when None), texts or pairs."""
    chosen = range(len(split)) if indices is None else indices
    texts = [split.texts[i] for i in chosen]
    pairs = None if split.pairs is None else [split.pairs[i] for i in chosen]
    return tokenizer(texts, pairs, truncation="longest_first" if pairs else True, max_length=max_seq_len,
                     return_token_type_ids=pairs is not None, **kwargs)


class TextDataset(torch.utils.data.Dataset):
    """Tokenised examples (no padding: the collator pads each batch to its longest) with labels."""

    def __init__(self, tokenizer, split: Split, max_seq_len: int):
        self.encodings = encode(tokenizer, split, max_seq_len)
        self.labels = split.labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        item = {key: values[i] for key, values in self.encodings.items()}
        item["labels"] = self.labels[i]
        return item
