"""Tag logits of one text's tokens into entities, as `pipeline("token-classification")` shapes them.

Pure functions of arrays, testable with known logits. Per token: softmax scores, the best tag and
its score. Then, by `aggregation_strategy`:
- "none": every sub-token is an entity `{entity, score, index, word, start, end}`;
- "simple": neighbouring sub-tokens merge into groups `{entity_group, score, word, start, end}`
  (a token continues the group before it when its tag has the same type and is not a "B-" tag);
- "first", "average", "max": sub-tokens first merge into words (a word's tag: its first sub-token's,
  the best of its averaged scores, or its best-scored sub-token's), then words into groups as "simple".
A group's score is the mean of its members' scores. Entities whose tag (or group) is in
`ignore_labels` are left out. Unlike the pipeline, `word` is the original text between `start`
and `end` (character offsets), not the tokenizer's lowercased and accent-stripped tokens.

The "B-"/"I-" reading covers both IOB schemes of the contract: in IOB1 an entity after "O" starts
with "I-" and "B-" only separates two neighbouring entities of one type, which the same rule reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Aggregation = Literal["none", "simple", "first", "average", "max"]


@dataclass(frozen=True)
class TextTokens:
    """One text's tokens without the special ones, with their model logits."""

    offsets: np.ndarray  # (n, 2) character offsets into the text
    word_ids: np.ndarray  # (n,) the word each token belongs to (sub-tokens of a word share it)
    logits: np.ndarray  # (n, tags)
    first_index: int = 1  # the position of the first token in the encoded text ([CLS] before it)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _piece(text: str, start: int, end: int, label: str, score: float) -> dict:
    return {"entity": label, "score": score, "word": text[start:end], "start": start, "end": end}


def token_entities(text: str, tokens: TextTokens, labels: list[str]) -> list[dict]:
    """One entity per token: its best tag and score ("none", before filtering)."""
    scores = softmax(tokens.logits.astype(np.float64))
    best = scores.argmax(axis=-1)
    return [
        {**_piece(text, int(start), int(end), labels[best[i]], float(scores[i, best[i]])),
         "index": tokens.first_index + i}
        for i, (start, end) in enumerate(tokens.offsets)
    ]


def _word_runs(word_ids: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) token ranges of the words, in order."""
    runs, start = [], 0
    for i in range(1, len(word_ids) + 1):
        if i == len(word_ids) or word_ids[i] != word_ids[i - 1]:
            runs.append((start, i))
            start = i
    return runs if len(word_ids) else []


def word_entities(text: str, tokens: TextTokens, labels: list[str], strategy: Aggregation) -> list[dict]:
    """One entity per word, its tag from its sub-tokens by `strategy` (first, average or max)."""
    scores = softmax(tokens.logits.astype(np.float64))
    words = []
    for start, stop in _word_runs(tokens.word_ids):
        own = scores[start:stop]
        if strategy == "first":
            row = own[0]
        elif strategy == "max":
            row = own[int(own.max(axis=-1).argmax())]
        else:
            row = own.mean(axis=0)
        tag = int(row.argmax())
        words.append(_piece(text, int(tokens.offsets[start, 0]), int(tokens.offsets[stop - 1, 1]),
                            labels[tag], float(row[tag])))
    return words


def _tag(label: str) -> tuple[str, str]:
    """("B" or "I", entity type) of a tag; a tag without a prefix ("O") reads as "I" of itself."""
    if label.startswith(("B-", "I-")):
        return label[0], label[2:]
    return "I", label


def group_entities(text: str, pieces: list[dict]) -> list[dict]:
    """Neighbouring pieces (tokens or words) of one entity merged into `{entity_group, ...}`."""
    groups: list[list[dict]] = []
    for piece in pieces:
        bi, kind = _tag(piece["entity"])
        if groups and bi != "B" and _tag(groups[-1][-1]["entity"])[1] == kind:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    return [
        {"entity_group": _tag(g[0]["entity"])[1], "score": float(np.mean([p["score"] for p in g])),
         "word": text[g[0]["start"]:g[-1]["end"]], "start": g[0]["start"], "end": g[-1]["end"]}
        for g in groups
    ]


def entities(text: str, tokens: TextTokens, labels: list[str], strategy: Aggregation,
             ignore_labels: list[str]) -> list[dict]:
    """The entities of one text by `strategy`, those tagged `ignore_labels` left out."""
    if strategy == "none":
        found = token_entities(text, tokens, labels)
        return [e for e in found if e["entity"] not in ignore_labels]
    pieces = token_entities(text, tokens, labels) if strategy == "simple" else \
        word_entities(text, tokens, labels, strategy)
    return [g for g in group_entities(text, pieces) if g["entity_group"] not in ignore_labels]
