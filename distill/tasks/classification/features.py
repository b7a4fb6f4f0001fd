"""Text-classification features: tokenised texts (no padding; the collator pads each batch to its
longest text) with their class indices."""

from __future__ import annotations

import torch

from distill.tasks.classification.data import Split


class TextDataset(torch.utils.data.Dataset):
    def __init__(self, tokenizer, split: Split, max_seq_len: int):
        self.encodings = tokenizer(
            split.texts, truncation=True, max_length=max_seq_len, return_token_type_ids=False
        )
        self.labels = split.labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        item = {key: values[i] for key, values in self.encodings.items()}
        item["labels"] = self.labels[i]
        return item
