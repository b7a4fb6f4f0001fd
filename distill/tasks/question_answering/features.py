"""Question-answering features: each (question, context) pair tokenised question first, context
second, the context cut into overlapping windows of `max_seq_len` tokens (`doc_stride` tokens of
overlap, truncation only of the context), with character offsets for the context tokens.

A window's labels are the token positions of the answer's first and last character, or the CLS
position (0) for both when the answer is not wholly inside the window (or there is none).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from distill.data import DataError
from distill.tasks.question_answering.data import QAExample

CLS_INDEX = 0


@dataclass(frozen=True)
class WindowConfig:
    max_seq_len: int = 384  # tokens per window: [CLS] question [SEP] context part [SEP]
    doc_stride: int = 128  # tokens shared by consecutive windows of one context
    max_question_len: int = 64  # longer questions are cut to this many tokens


@dataclass
class Windows:
    """Parallel lists, one entry per window; `offsets` is None outside the context."""

    input_ids: list[list[int]] = field(default_factory=list)
    attention_mask: list[list[int]] = field(default_factory=list)
    offsets: list[list[tuple[int, int] | None]] = field(default_factory=list)
    example_index: list[int] = field(default_factory=list)  # which example each window came from
    start_positions: list[int] = field(default_factory=list)
    end_positions: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)

    def select(self, keep: list[int]) -> Windows:
        return Windows(*([values[i] for i in keep] for values in (
            self.input_ids, self.attention_mask, self.offsets, self.example_index,
            self.start_positions, self.end_positions)))


def check_window_config(config: WindowConfig) -> None:
    room = config.max_seq_len - config.max_question_len - 3  # [CLS], two [SEP]
    if room <= config.doc_stride:
        raise DataError(f"--doc-stride {config.doc_stride} must be below the context room of a window "
                        f"({config.max_seq_len} tokens - {config.max_question_len} question tokens - 3 = {room})")


def _clip_question(tokenizer, question: str, limit: int) -> str:
    """The question cut after its `limit`-th token (character-exact, via the offsets)."""
    question = question.strip()
    encoded = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    return question if len(offsets) <= limit else question[:offsets[limit - 1][1]]


def make_windows(tokenizer, examples: list[QAExample], config: WindowConfig) -> Windows:
    """Every window of every example, labelled with the first gold answer."""
    check_window_config(config)
    questions = [_clip_question(tokenizer, e.question, config.max_question_len) for e in examples]
    encoded = tokenizer(
        questions, [e.context for e in examples], truncation="only_second", max_length=config.max_seq_len,
        stride=config.doc_stride, return_overflowing_tokens=True, return_offsets_mapping=True,
        return_token_type_ids=False, padding=False,
    )
    windows = Windows()
    for i, example_index in enumerate(encoded["overflow_to_sample_mapping"]):
        sequence_ids = encoded.sequence_ids(i)
        offsets = [tuple(o) if s == 1 else None for o, s in zip(encoded["offset_mapping"][i], sequence_ids)]
        answer = examples[example_index].answers[:1]
        start, end = answer_positions(offsets, answer[0].start, answer[0].start + len(answer[0].text)) \
            if answer else (CLS_INDEX, CLS_INDEX)
        windows.input_ids.append(list(encoded["input_ids"][i]))
        windows.attention_mask.append(list(encoded["attention_mask"][i]))
        windows.offsets.append(offsets)
        windows.example_index.append(int(example_index))
        windows.start_positions.append(start)
        windows.end_positions.append(end)
    return windows


def answer_positions(offsets: list[tuple[int, int] | None], start_char: int, end_char: int) -> tuple[int, int]:
    """Token positions of the answer's first and last character (end_char exclusive) in a window,
    or (CLS, CLS) when the window does not hold the whole answer."""
    context = [i for i, o in enumerate(offsets) if o is not None]
    if not context or offsets[context[0]][0] > start_char or offsets[context[-1]][1] < end_char:
        return CLS_INDEX, CLS_INDEX
    start = next(i for i in context if offsets[i][1] > start_char)
    end = next(i for i in reversed(context) if offsets[i][0] < end_char)
    return start, end


def drop_answerless(windows: Windows, keep_fraction: float, seed: int) -> Windows:
    """Keep every window labelled with an answer and a seeded `keep_fraction` of the others."""
    if not 0.0 <= keep_fraction <= 1.0:
        raise DataError(f"--keep-answerless must be between 0 and 1, got {keep_fraction}")
    if keep_fraction == 1.0:
        return windows
    rng = random.Random(seed)
    keep = [i for i, s in enumerate(windows.start_positions) if s != CLS_INDEX or rng.random() < keep_fraction]
    return windows.select(keep)


class WindowDataset(torch.utils.data.Dataset):
    """Labelled windows for the trainer (no padding; the collator pads each batch to its longest)."""

    def __init__(self, windows: Windows):
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict:
        w = self.windows
        return {"input_ids": w.input_ids[i], "attention_mask": w.attention_mask[i],
                "start_positions": w.start_positions[i], "end_positions": w.end_positions[i]}
