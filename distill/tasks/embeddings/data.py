"""The sentences of the embedding task (its transfer corpus): from one or several text sources,
comma separated -- the built-in movie reviews, text files and hub corpora (`distill.corpus`, whose
documents are split into sentences here), or the text column(s) of a CSV/TSV/JSONL file (both texts
of a pair) -- deduplicated across the sources, split into training and held-out sentences by a
seeded shuffle (the training sentences stay in that shuffled order, so a capped corpus is a random
sample of every source), and the optional STS pairs the student is evaluated on. A source that
cannot be read or gives no usable sentence is an error naming it.

No labels are needed: the teacher's embeddings are the targets.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from distill.corpus import CorpusConfig, documents
from distill.data import DataError, check_fraction
from distill.tasks.embeddings.sts import StsPairs, read_sts
from distill.tasks.text.readers import LOCAL_SUFFIXES, Columns, _records

# the end of a sentence: . ! or ? (closing quotes and brackets kept), then space and a capital or digit
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9])")
MIN_WORDS = 3  # shorter fragments ("Wow.", "10/10.") say little about a sentence embedding
MAX_CHARS = 1000  # a run-on "sentence" longer than this is a paragraph without punctuation; it is left out
DEFAULT_MAX_EVAL = 1000  # held-out sentences when --max-eval-examples is not given


@dataclass(frozen=True)
class EmbeddingDataConfig:
    source: str = "movie-reviews"  # built-in, text file, CSV/TSV/JSONL file or hub corpus; several comma separated
    text_column: str = "text"  # for tables and hub corpora
    text_pair_column: str | None = None  # a table's second text column, whose sentences are used too
    subset: str | None = None  # hub configuration name
    sts_data: str | None = None  # an STS-B-style file to evaluate on (Spearman)
    validation_fraction: float = 0.1
    seed: int = 42
    max_train_examples: int | None = None  # sentences
    max_eval_examples: int | None = None  # held-out sentences (None: DEFAULT_MAX_EVAL)


@dataclass
class EmbeddingData:
    train: list[str]
    validation: list[str]  # held-out sentences (mean cosine to the teacher)
    sts: StsPairs | None = None  # evaluation pairs (Spearman)
    description: dict = field(default_factory=dict)


def split_sentences(text: str) -> list[str]:
    """The sentences of a document: split after . ! ? before a capital or digit."""
    text = " ".join(text.split())
    return [s for s in SENTENCE_END.split(text) if len(s.split()) >= MIN_WORDS and len(s) <= MAX_CHARS]


def _table_texts(path: Path, config: EmbeddingDataConfig) -> list[str]:
    records, names = _records(path, Columns(config.text_column))
    columns = [config.text_column] + ([config.text_pair_column] if config.text_pair_column else [])
    for column in columns:
        if column not in names:
            raise DataError(f"column {column!r} not found in {path.name}; columns are: {', '.join(names)}")
    return [str(record[c]).strip() for record in records for c in columns if str(record.get(c) or "").strip()]


def sources_of(source: str) -> list[str]:
    """The comma-separated sources of `--data`, in order, each once."""
    names = list(dict.fromkeys(part.strip() for part in source.split(",") if part.strip()))
    if not names:
        raise DataError("no text source given (--data)")
    return names


def _source_texts(source: str, config: EmbeddingDataConfig) -> list[str]:
    path = Path(source)
    try:
        if path.suffix.lower() in LOCAL_SUFFIXES:
            if not path.is_file():
                raise DataError(f"data file not found: {path}")
            return _table_texts(path, config)
        corpus = CorpusConfig(sources=(source,), text_column=config.text_column, subset=config.subset)
        return [s for document in documents(corpus) for s in split_sentences(document)]
    except (OSError, UnicodeDecodeError, ValueError) as error:
        if isinstance(error, DataError):
            raise
        raise DataError(f"cannot read the text source {source!r}: {error}") from None


def read_texts(config: EmbeddingDataConfig) -> list[str]:
    """Every sentence of every source, in order, duplicates removed (across sources too); a source
    with no usable sentence is an error naming it."""
    texts: list[str] = []
    for source in sources_of(config.source):
        found = _source_texts(source, config)
        if not found:
            raise DataError(f"the text source {source!r} has no usable sentence (a sentence needs at least "
                            f"{MIN_WORDS} words and at most {MAX_CHARS} characters)")
        texts += found
    return list(dict.fromkeys(texts))


def load_data(config: EmbeddingDataConfig) -> EmbeddingData:
    """Sentences split (seeded) into training and held-out ones, each capped, and the STS pairs."""
    check_fraction(config.validation_fraction)
    sentences = read_texts(config)
    if len(sentences) < 2:
        raise DataError(f"{config.source!r} has {len(sentences)} sentence(s); at least 2 are needed")
    order = list(range(len(sentences)))
    random.Random(config.seed).shuffle(order)
    held = max(1, round(len(order) * config.validation_fraction))
    held = min(held, config.max_eval_examples or DEFAULT_MAX_EVAL)
    validation = [sentences[i] for i in sorted(order[:held])]
    train = [sentences[i] for i in order[held:][:config.max_train_examples]]  # in the shuffled order
    sts = read_sts(config.sts_data) if config.sts_data else None
    description = {"source": config.source, "sentences": len(sentences), "train_examples": len(train),
                   "validation_examples": len(validation), "sts": config.sts_data,
                   "sts_pairs": len(sts) if sts else 0}
    return EmbeddingData(train, validation, sts, description)
