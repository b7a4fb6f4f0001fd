"""Token-classification data: CoNLL-style files, one `token<TAB>tag` per line (other columns
between the two are ignored, so CoNLL-2003's four columns read too), a blank line between
sentences, `-DOCSTART-` lines skipped. Tags are `O`, `B-TYPE` or `I-TYPE`.

The tag set is taken from the data (training and validation together): `O` first, then per entity
type in alphabetical order its `B-` and `I-` tag, each when the data use it. The label scheme is
IOB1 when some entity starts with an `I-` tag (after `O`, after another type, or at a sentence
start), else IOB2 (the two read alike when no entity starts with `I-`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from distill.data import DataError, check_fraction, subsample

OUTSIDE = "O"


@dataclass(frozen=True)
class Sentence:
    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    def as_record(self) -> dict:
        """The JSON line of the student's validation_tokens.jsonl (docs/CONTRACTS.md)."""
        return {"tokens": list(self.tokens), "tags": list(self.tags)}

    @classmethod
    def from_record(cls, record: dict, where: str = "record") -> Sentence:
        tokens, tags = record.get("tokens"), record.get("tags")
        if not isinstance(tokens, list) or not isinstance(tags, list) or len(tokens) != len(tags) or not tokens:
            raise DataError(f"{where}: expected non-empty 'tokens' and 'tags' lists of the same length")
        for tag in tags:
            check_tag(tag, where)
        return cls(tuple(str(t) for t in tokens), tuple(tags))


@dataclass(frozen=True)
class TokenDataConfig:
    source: str  # CoNLL-style file(s), comma separated (concatenated)
    validation_source: str | None = None  # CoNLL-style file(s) of the validation split
    validation_fraction: float = 0.1  # sentences held out when there is no validation file
    seed: int = 42
    max_train_examples: int | None = None  # sentences
    max_eval_examples: int | None = None


@dataclass
class TokenData:
    train: list[Sentence]
    validation: list[Sentence]
    labels: list[str]  # tag names in logits order
    scheme: str  # IOB1 or IOB2
    description: dict = field(default_factory=dict)


def check_tag(tag: str, where: str) -> None:
    prefix, _, kind = tag.partition("-")
    if tag != OUTSIDE and not (prefix in ("B", "I") and kind):
        raise DataError(f"{where}: tag {tag!r} is neither O nor B-TYPE / I-TYPE (IOB1 or IOB2)")


def read_conll(path: Path) -> list[Sentence]:
    """The sentences of one CoNLL-style file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"CoNLL file not found: {path}")
    sentences, tokens, tags = [], [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.startswith("-DOCSTART-"):
            if tokens:
                sentences.append(Sentence(tuple(tokens), tuple(tags)))
            tokens, tags = [], []
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) < 2 or not fields[0].strip():
            raise DataError(f"{path}:{number}: expected 'token<TAB>tag', got {line[:60]!r}")
        check_tag(fields[-1].strip(), f"{path}:{number}")
        tokens.append(fields[0].strip())
        tags.append(fields[-1].strip())
    if tokens:
        sentences.append(Sentence(tuple(tokens), tuple(tags)))
    return sentences


def label_names(sentences: list[Sentence]) -> list[str]:
    """O, then B- and I- of each entity type (alphabetical), those the sentences use."""
    used = {tag for s in sentences for tag in s.tags}
    kinds = sorted({tag[2:] for tag in used if tag != OUTSIDE})
    return [OUTSIDE] + [f"{p}-{k}" for k in kinds for p in ("B", "I") if f"{p}-{k}" in used]


def label_scheme(sentences: list[Sentence]) -> str:
    """IOB1 when some entity starts with an I- tag, else IOB2."""
    for sentence in sentences:
        previous = OUTSIDE
        for tag in sentence.tags:
            if tag.startswith("I-") and (previous == OUTSIDE or previous[2:] != tag[2:]):
                return "IOB1"
            previous = tag
    return "IOB2"


def _read_all(sources: str) -> list[Sentence]:
    sentences = []
    for source in (s.strip() for s in sources.split(",") if s.strip()):
        sentences += read_conll(Path(source))
    return sentences


def split_sentences(sentences: list[Sentence], fraction: float, seed: int) -> tuple[list, list]:
    """A seeded share of the sentences held out, both sides in file order."""
    check_fraction(fraction)
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    held = set(order[:max(1, round(len(sentences) * fraction))])
    if len(held) == len(sentences):
        raise DataError("cannot hold out a validation split from a single sentence; give --validation-data")
    return ([s for i, s in enumerate(sentences) if i not in held], [s for i, s in enumerate(sentences) if i in held])


def load_token_data(config: TokenDataConfig) -> TokenData:
    """Read the configured files, split when there is no validation file, subsample."""
    train = _read_all(config.source)
    if not train:
        raise DataError(f"the token-classification data {config.source!r} has no sentences")
    if config.validation_source:
        validation = _read_all(config.validation_source)
    else:
        train, validation = split_sentences(train, config.validation_fraction, config.seed)
    train = subsample(train, config.max_train_examples, config.seed)
    validation = subsample(validation, config.max_eval_examples, config.seed + 1)
    if not validation:
        raise DataError("the token-classification validation split is empty")
    labels = label_names(train + validation)
    if len(labels) < 2:
        raise DataError(f"the data {config.source!r} tag no entities (every tag is O)")
    scheme = label_scheme(train + validation)
    description = {"source": config.source, "validation_source": config.validation_source,
                   "train_examples": len(train), "validation_examples": len(validation),
                   "train_tokens": sum(len(s.tokens) for s in train), "labels": labels, "label_scheme": scheme}
    return TokenData(train, validation, labels, scheme, description)
