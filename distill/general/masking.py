"""Dynamic masking for the masked-LM objective, drawn afresh every time a batch is made (so each
epoch masks a sequence differently), as in BERT and DistilBERT: `probability` (15%) of the real,
non-special tokens are chosen; of those 80% become [MASK], 10% a random token, 10% stay as they
are. With `smoothing` > 0 the choice favours rare tokens: position weights are count^-smoothing
(the reference implementation's mlm_smoothing 0.7), and exactly round(probability x tokens)
positions of the batch are drawn."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import torch

IGNORE = -100  # label of positions that are not predicted


@dataclass(frozen=True)
class MaskingConfig:
    probability: float = 0.15  # share of real tokens the model must predict
    mask_share: float = 0.8  # of the chosen: replaced by [MASK]
    random_share: float = 0.1  # of the chosen: replaced by a random token (the rest stay)
    smoothing: float = 0.0  # > 0: weight positions by token count^-smoothing (rare tokens first)


@dataclass(frozen=True)
class Vocabulary:
    size: int
    mask_id: int
    special_ids: tuple[int, ...]  # never chosen and never drawn as random replacements


def token_weights(sequences: Iterable[list[int]], vocabulary: Vocabulary, smoothing: float) -> torch.Tensor:
    """Per token id: max(count, 1)^-smoothing over the corpus, 0 for special tokens."""
    counts = Counter(token for sequence in sequences for token in sequence)
    weights = torch.ones(vocabulary.size, dtype=torch.float64)
    for token, count in counts.items():
        weights[token] = float(count)
    weights = weights.pow(-smoothing)
    weights[list(vocabulary.special_ids)] = 0.0
    return weights


def choose_positions(input_ids: torch.Tensor, real: torch.Tensor, config: MaskingConfig,
                     generator: torch.Generator, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean [batch, length]: the positions to predict, among the `real` ones."""
    if weights is None:
        draw = torch.rand(input_ids.shape, generator=generator) < config.probability
        return draw & real
    flat = (weights[input_ids] * real).flatten()
    count = min(int(round(config.probability * int(real.sum()))), int((flat > 0).sum()))
    chosen = torch.zeros_like(flat, dtype=torch.bool)
    if count:
        chosen[torch.multinomial(flat, count, replacement=False, generator=generator)] = True
    return chosen.view(input_ids.shape)


def mask_tokens(input_ids: torch.Tensor, attention_mask: torch.Tensor, vocabulary: Vocabulary,
                config: MaskingConfig, generator: torch.Generator,
                weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(masked input ids, labels): labels hold the original id at the chosen positions, -100 elsewhere."""
    special = torch.isin(input_ids, torch.tensor(vocabulary.special_ids, dtype=input_ids.dtype))
    real = attention_mask.bool() & ~special
    chosen = choose_positions(input_ids, real, config, generator, weights)
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE))
    roll = torch.rand(input_ids.shape, generator=generator)
    to_mask = chosen & (roll < config.mask_share)
    to_random = chosen & (roll >= config.mask_share) & (roll < config.mask_share + config.random_share)
    masked = input_ids.clone()
    masked[to_mask] = vocabulary.mask_id
    allowed = torch.ones(vocabulary.size, dtype=torch.bool)
    allowed[list(vocabulary.special_ids)] = False
    candidates = allowed.nonzero().squeeze(1)
    picks = torch.randint(len(candidates), (int(to_random.sum()),), generator=generator)
    masked[to_random] = candidates[picks].to(masked.dtype)
    return masked, labels


class MaskingCollator:
    """Pads a batch of token-id lists and masks it (a new draw for every batch, seeded once)."""

    def __init__(self, pad_id: int, vocabulary: Vocabulary, config: MaskingConfig, seed: int,
                 weights: torch.Tensor | None = None, mask: bool = True):
        self.pad_id, self.vocabulary, self.config, self.weights, self.mask = pad_id, vocabulary, config, weights, mask
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(features), width), dtype=torch.long)
        for row, feature in enumerate(features):
            ids[row, :len(feature["input_ids"])] = torch.tensor(feature["input_ids"])
            attention[row, :len(feature["input_ids"])] = 1
        if not self.mask:
            return {"input_ids": ids, "attention_mask": attention}
        masked, labels = mask_tokens(ids, attention, self.vocabulary, self.config, self.generator, self.weights)
        return {"input_ids": masked, "attention_mask": attention, "labels": labels}
