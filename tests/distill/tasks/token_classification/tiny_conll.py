"""Tiny CoNLL-style data written by hand for the token-classification tests: short sentences with
person, organisation and location names in IOB2 tags, and the same sentences in IOB1."""

from __future__ import annotations

from pathlib import Path

# each sentence: words, and entities as (first word, words, type)
SENTENCES = [
    ("anna smith lives in paris", [(0, 2, "PER"), (4, 1, "LOC")]),
    ("the bank of rome hired tom", [(1, 3, "ORG"), (5, 1, "PER")]),
    ("maria visited new york with john", [(0, 1, "PER"), (2, 2, "LOC"), (5, 1, "PER")]),
    ("acme corp opened an office in berlin", [(0, 2, "ORG"), (6, 1, "LOC")]),
    ("peter and paul met in london", [(0, 1, "PER"), (2, 1, "PER"), (5, 1, "LOC")]),
    ("the city of oslo is cold", [(3, 1, "LOC")]),
    ("globex sued initech in madrid", [(0, 1, "ORG"), (2, 1, "ORG"), (4, 1, "LOC")]),
    ("we walked home", []),
    ("lisa works for the united nations in geneva", [(0, 1, "PER"), (4, 2, "ORG"), (7, 1, "LOC")]),
    ("karl moved from vienna to rome", [(0, 1, "PER"), (3, 1, "LOC"), (5, 1, "LOC")]),
    ("the red cross helped anna", [(1, 2, "ORG"), (4, 1, "PER")]),
    ("tom smith visited paris and berlin", [(0, 2, "PER"), (3, 1, "LOC"), (5, 1, "LOC")]),
]


def tagged(iob1: bool = False) -> list[tuple[list[str], list[str]]]:
    """(words, tags) per sentence; IOB1 starts an entity with I- unless it follows one of its type."""
    out = []
    for text, spans in SENTENCES:
        words = text.split()
        tags = ["O"] * len(words)
        for first, count, kind in spans:
            follows_same = first > 0 and tags[first - 1][2:] == kind
            tags[first] = f"{'I' if iob1 and not follows_same else 'B'}-{kind}"
            for i in range(first + 1, first + count):
                tags[i] = f"I-{kind}"
        out.append((words, tags))
    return out


def all_texts() -> list[str]:
    return [text for text, _ in SENTENCES]


def write_conll(path: Path, sentences: list[tuple[list[str], list[str]]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = ["\n".join(f"{w}\t{t}" for w, t in zip(words, tags)) for words, tags in sentences]
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path
