"""Token-classification features: each sentence's words tokenised into sub-tokens, cut into
windows of at most `max_seq_len` tokens (`[CLS] part [SEP]`, consecutive windows sharing
`doc_stride` sub-tokens, so a sentence longer than one window is covered whole), and labelled on
the FIRST sub-token of each word: the word's tag index there, -100 (ignored by the losses) on its
other sub-tokens and on [CLS] / [SEP]. The service reads a word's tag at the same sub-token.

A word of the data may be several words to the tokenizer: its pre-tokenizer splits punctuation off
("Fairground]]" is "Fairground", "]", "]"; WikiANN has many such words), and the service, given raw
text, reads a tag at the first sub-token of each of those pieces. So every piece is labelled: the
first with the word's tag, the others as the entity's continuation (`I-TYPE` for `B-TYPE` or
`I-TYPE`, `O` for `O`). Evaluation still reads each word at its first piece.

A word is read back (`WordPositions`) from the window where its first sub-token has the most
context on both sides (the rule BERT uses for overlapping question-answering windows); a word
the tokenizer turns into no sub-token at all is tagged O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from distill.data import DataError
from distill.tasks.token_classification.data import Sentence

IGNORE = -100  # label of positions without a tag (PyTorch's cross-entropy ignore_index)


@dataclass(frozen=True)
class WindowConfig:
    max_seq_len: int = 128  # tokens per window, [CLS] and [SEP] included
    doc_stride: int = 32  # sub-tokens shared by consecutive windows of a long sentence


@dataclass
class TokenWindows:
    """Parallel lists, one entry per window, and per sentence where each word is read."""

    input_ids: list[list[int]] = field(default_factory=list)
    labels: list[list[int]] = field(default_factory=list)
    sentence: list[int] = field(default_factory=list)  # which sentence each window came from
    positions: list[list[tuple[int, int] | None]] = field(default_factory=list)  # per sentence, per word:
    # (window, position) of the word's first sub-token in its best window, None without sub-tokens

    def __len__(self) -> int:
        return len(self.input_ids)


def check_window_config(config: WindowConfig) -> None:
    if config.max_seq_len < 3:
        raise DataError(f"--max-seq-len must be at least 3 ([CLS], a token, [SEP]), got {config.max_seq_len}")
    if not 0 <= config.doc_stride < config.max_seq_len - 2:
        raise DataError(f"--doc-stride {config.doc_stride} must be at least 0 and below the sub-tokens of a window "
                        f"({config.max_seq_len} - 2 = {config.max_seq_len - 2})")


def window_starts(length: int, room: int, stride: int) -> list[int]:
    """First sub-token of each window over `length` sub-tokens, `room` per window, `stride` shared."""
    starts = [0]
    while starts[-1] + room < length:
        starts.append(starts[-1] + room - stride)
    return starts


def _first_subtokens(word_ids: list[int | None]) -> dict[int, int]:
    """Word index -> position of its first sub-token."""
    first: dict[int, int] = {}
    for position, word in enumerate(word_ids):
        if word is not None and word not in first:
            first[word] = position
    return first


def _later_pieces(word_ids: list[int | None], tokens: list[str], prefix: str | None) -> dict[int, int]:
    """Position -> word index of the first sub-token of each piece of a word after its first piece
    (a sub-token that does not carry the tokenizer's continuing-sub-word prefix, e.g. WordPiece's
    "##", starts a piece); none when the tokenizer has no such prefix."""
    if not prefix:
        return {}
    seen: set[int] = set()
    later: dict[int, int] = {}
    for position, (word, token) in enumerate(zip(word_ids, tokens)):
        if word is None:
            continue
        if word in seen and not token.startswith(prefix):
            later[position] = word
        seen.add(word)
    return later


def continuation(tag: str) -> str:
    """The tag of a word's later pieces: the entity goes on (I-TYPE), or O stays O."""
    return "O" if tag == "O" else "I-" + tag.split("-", 1)[1]


def _continuing_prefix(tokenizer) -> str | None:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return getattr(getattr(backend, "model", None), "continuing_subword_prefix", None)


def _context(position: int, start: int, end: int) -> int:
    return min(position - start, end - 1 - position)


def make_windows(tokenizer, sentences: list[Sentence], labels: list[str], config: WindowConfig) -> TokenWindows:
    """Every window of every sentence, labelled per `labels` (the tag names in logits order)."""
    check_window_config(config)
    index = {name: i for i, name in enumerate(labels)}
    encoded = tokenizer([list(s.tokens) for s in sentences], is_split_into_words=True, add_special_tokens=False,
                        return_attention_mask=False, return_token_type_ids=False)
    room = config.max_seq_len - 2
    prefix = _continuing_prefix(tokenizer)
    windows = TokenWindows()
    for number, sentence in enumerate(sentences):
        ids = encoded["input_ids"][number]
        first = _first_subtokens(encoded.word_ids(number))
        later = _later_pieces(encoded.word_ids(number), tokenizer.convert_ids_to_tokens(ids), prefix)
        best: dict[int, tuple[int, int, int]] = {}  # word -> (context, window, position)
        for start in (window_starts(len(ids), room, config.doc_stride) if ids else []):
            end = min(start + room, len(ids))
            row = [IGNORE] * (end - start + 2)
            for position, word in later.items():
                if start <= position < end:
                    row[position - start + 1] = index.get(continuation(sentence.tags[word]), IGNORE)
            for word, position in first.items():
                if start <= position < end:
                    row[position - start + 1] = index.get(sentence.tags[word], IGNORE)
                    context = _context(position, start, end)
                    if word not in best or context > best[word][0]:
                        best[word] = (context, len(windows), position - start + 1)
            windows.input_ids.append([tokenizer.cls_token_id, *ids[start:end], tokenizer.sep_token_id])
            windows.labels.append(row)
            windows.sentence.append(number)
        windows.positions.append([best[w][1:] if w in best else None for w in range(len(sentence.tokens))])
    return windows


def word_tags(windows: TokenWindows, logits: list, labels: list[str]) -> list[list[str]]:
    """Per sentence, each word's tag: the argmax of the logits ([positions, labels] per window)
    at its first sub-token in its best window; O for a word without sub-tokens."""
    tags = []
    for positions in windows.positions:
        tags.append(["O" if p is None else labels[int(logits[p[0]][p[1]].argmax())] for p in positions])
    return tags


class TokenDataset(torch.utils.data.Dataset):
    """Labelled windows for the trainer (no padding: the collator pads each batch, labels with -100);
    windows without a labelled position are left out."""

    def __init__(self, windows: TokenWindows):
        self.rows = [i for i, row in enumerate(windows.labels) if any(label != IGNORE for label in row)]
        self.windows = windows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        row = self.rows[i]
        ids = self.windows.input_ids[row]
        return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": self.windows.labels[row]}
