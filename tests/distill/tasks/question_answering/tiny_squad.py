"""Tiny SQuAD-format data written by hand for the QA tests: a few articles, v1.1 and v2.0 files."""

from __future__ import annotations

import json
from pathlib import Path

ARTICLES = {
    "Rivers": [
        ("the rhine flows through basel and cologne before it reaches the north sea near rotterdam .",
         [("where does the rhine reach the sea ?", "near rotterdam"),
          ("which city does the rhine pass first ?", "basel")]),
        ("the danube is the second longest river in europe and flows into the black sea .",
         [("where does the danube flow into ?", "the black sea"),
          ("which river is the second longest in europe ?", "the danube")]),
    ],
    "Cities": [
        ("zürich is the largest city of switzerland and lies on a lake with clear water .",
         [("what is the largest city of switzerland ?", "zürich"),
          ("where does zürich lie ?", "on a lake")]),
        ("paris is the capital of france and is known for its museums and cafes .",
         [("what is the capital of france ?", "paris"),
          ("what is paris known for ?", "its museums and cafes")]),
    ],
    "Music": [
        ("the orchestra played a naïve little tune by mozart in the old concert hall last night .",
         [("who wrote the tune ?", "mozart"), ("where did the orchestra play ?", "the old concert hall")]),
        ("the choir sang three songs and the crowd asked for one more song at the end .",
         [("how many songs did the choir sing ?", "three songs"),
          ("what did the crowd ask for ?", "one more song")]),
    ],
}


def all_texts() -> list[str]:
    texts = []
    for paragraphs in ARTICLES.values():
        for context, qas in paragraphs:
            texts += [context] + [q for q, _ in qas]
    return texts


def squad_document(int_ids: bool = False, impossible: list[tuple[str, str, str]] | None = None) -> dict:
    """SQuAD v1.1 JSON of ARTICLES; `impossible` adds v2.0 (title, context, question) entries."""
    data, number = [], 0
    for title, paragraphs in ARTICLES.items():
        entries = []
        for context, qas in paragraphs:
            questions = []
            for question, answer in qas:
                number += 1
                questions.append({"id": number if int_ids else f"q{number}", "question": question,
                                  "answers": [{"text": answer, "answer_start": context.index(answer)}]})
            entries.append({"context": context, "qas": questions})
        data.append({"title": title, "paragraphs": entries})
    for title, context, question in impossible or []:
        number += 1
        data.append({"title": title, "paragraphs": [{"context": context, "qas": [
            {"id": number if int_ids else f"q{number}", "question": question, "answers": [],
             "is_impossible": True}]}]})
    return {"version": "2.0" if impossible else "1.1", "data": data}


def write_squad(path: Path, document: dict) -> Path:
    path = Path(path)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path
