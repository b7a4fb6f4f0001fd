"""Teacher outputs kept across epochs: the frozen teacher gives the same outputs for the same
example every epoch, so after the first epoch its forward pass can be skipped. Each training
example carries its index (`IndexedDataset`); a batch whose examples are all cached is answered from
the cache, padded to the batch's width. Per example, token-level outputs (span logits, hidden
states) are stored for its real tokens only; hidden states in bfloat16 (they are cosine targets)."""

from __future__ import annotations

from types import SimpleNamespace

import torch

INDEX = "cache_index"  # the batch entry holding each example's index
FIELDS = ("logits", "start_logits", "end_logits")  # the outputs a task's losses read
SPANS = ("start_logits", "end_logits")  # one value per token; `logits` is per token when it has 3 dims


class IndexedDataset(torch.utils.data.Dataset):
    """A dataset whose items also carry their index under `INDEX`."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict:
        return {**self.dataset[i], INDEX: i}


class TeacherCache:
    """Per example: the teacher's output fields and the hidden states at `hidden_layers` (indices
    into `hidden_states`); `hits` and `misses` count examples answered from the cache or not."""

    def __init__(self, hidden_layers: list[int] | None = None):
        self.hidden_layers = list(hidden_layers or [])
        self.store: dict[int, dict] = {}
        self.hits = self.misses = 0

    def put(self, indices: torch.Tensor, output, attention_mask: torch.Tensor) -> None:
        lengths = attention_mask.sum(-1).tolist()
        hidden = getattr(output, "hidden_states", None)
        for row, (index, length) in enumerate(zip(indices.tolist(), lengths)):
            entry = {name: (value[row, :length] if _per_token(name, value) else value[row]).detach()
                     for name in FIELDS if (value := getattr(output, name, None)) is not None}
            if self.hidden_layers and hidden is not None:
                entry["hidden"] = {i: hidden[i][row, :length].detach().to(torch.bfloat16) for i in self.hidden_layers}
            self.store[index] = entry

    def get(self, indices: torch.Tensor, attention_mask: torch.Tensor, layers: int):
        """The batch's teacher outputs when every example is cached (`hidden_states` has `layers` + 1
        entries, None where not cached), else None."""
        keys = indices.tolist()
        if not all(k in self.store for k in keys):
            self.misses += len(keys)
            return None
        self.hits += len(keys)
        width = attention_mask.shape[1]
        entries = [self.store[k] for k in keys]
        fields = {name: torch.stack([_pad(e[name], width) if _per_token(name, e[name][None]) else e[name]
                                     for e in entries]) for name in entries[0] if name != "hidden"}
        hidden = [None] * (layers + 1)
        for i in self.hidden_layers if "hidden" in entries[0] else []:
            hidden[i] = torch.stack([_pad(e["hidden"][i], width) for e in entries]).float()
        return SimpleNamespace(**fields, hidden_states=tuple(hidden))


def _per_token(name: str, batch_value: torch.Tensor) -> bool:
    return name in SPANS or batch_value.dim() == 3


def _pad(value: torch.Tensor, width: int) -> torch.Tensor:
    """An example's per-token values back to the batch's width with zeros (padding positions are
    masked by every loss)."""
    return torch.nn.functional.pad(value, (0, 0) * (value.dim() - 1) + (0, width - value.shape[0]))
