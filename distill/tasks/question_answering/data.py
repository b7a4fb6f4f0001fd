"""Extractive question-answering data in SQuAD form: local SQuAD JSON files (v1.1, and v2.0 with
`is_impossible`) and `datasets` hub names (`squad`, `squad_v2`), turned into one `QAData` value.

Several sources may be given, comma separated; their examples are concatenated. Every answer is
checked against its context: the answer text must start at `answer_start`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from distill.data import DataError, check_fraction, read_hub, subsample


@dataclass(frozen=True)
class Answer:
    text: str
    start: int  # character offset into the context


@dataclass(frozen=True)
class QAExample:
    id: str
    question: str
    context: str
    answers: tuple[Answer, ...] = ()  # empty: the question has no answer in the context (v2)
    title: str = ""

    @property
    def is_impossible(self) -> bool:
        return not self.answers

    def as_record(self) -> dict:
        """The SQuAD-like JSON line of the student's validation_qa.jsonl (docs/CONTRACTS.md)."""
        return {"id": self.id, "title": self.title, "question": self.question, "context": self.context,
                "answers": {"text": [a.text for a in self.answers],
                            "answer_start": [a.start for a in self.answers]}}

    @classmethod
    def from_record(cls, record: dict) -> QAExample:
        answers = record.get("answers") or {"text": [], "answer_start": []}
        pairs = zip(answers["text"], answers["answer_start"], strict=True)
        return cls(str(record["id"]), record["question"], record["context"],
                   tuple(Answer(t, int(s)) for t, s in pairs), record.get("title") or "")


@dataclass(frozen=True)
class QADataConfig:
    source: str  # hub name(s) or SQuAD JSON path(s), comma separated
    subset: str | None = None  # hub configuration name
    validation_source: str | None = None  # SQuAD JSON path(s) of the validation split
    validation_fraction: float = 0.1  # held out by article when there is no validation split
    seed: int = 42
    max_train_examples: int | None = None
    max_eval_examples: int | None = None
    skip_bad_answers: bool = False  # drop answers not found at answer_start instead of failing


@dataclass
class QAData:
    train: list[QAExample]
    validation: list[QAExample]
    description: dict = field(default_factory=dict)

    @property
    def has_impossible(self) -> bool:
        return any(e.is_impossible for e in self.train + self.validation)


def load_qa_data(config: QADataConfig) -> QAData:
    """Read the configured sources, split by article when needed, and subsample."""
    train, evaluation = _read_sources(config.source, config)
    if config.validation_source:
        evaluation = _read_sources(config.validation_source, config)[0]
    if not train:
        raise DataError(f"the question-answering data {config.source!r} has no questions")
    if evaluation is None:
        train, evaluation = split_by_article(train, config.validation_fraction, config.seed)
    train = subsample(train, config.max_train_examples, config.seed)
    evaluation = subsample(evaluation, config.max_eval_examples, config.seed + 1)
    if not evaluation:
        raise DataError("the question-answering validation split is empty")
    description = {
        "source": config.source, "subset": config.subset, "validation_source": config.validation_source,
        "train_examples": len(train), "validation_examples": len(evaluation),
        "impossible_examples": sum(e.is_impossible for e in train + evaluation),
    }
    return QAData(train, evaluation, description)


def split_by_article(examples: list[QAExample], fraction: float, seed: int) -> tuple[list, list]:
    """Seeded split that keeps every question of an article (or context) on the same side."""
    check_fraction(fraction)
    groups = sorted({e.title or e.context for e in examples})
    random.Random(seed).shuffle(groups)
    held = set(groups[:max(1, round(len(groups) * fraction))])
    if len(held) == len(groups):
        raise DataError("cannot hold out a validation split: the data has a single article; "
                        "give --validation-data")
    return ([e for e in examples if (e.title or e.context) not in held],
            [e for e in examples if (e.title or e.context) in held])


def _read_sources(sources: str, config: QADataConfig) -> tuple[list[QAExample], list[QAExample] | None]:
    """Concatenate every comma-separated source; hub data bring their validation split."""
    train: list[QAExample] = []
    validation: list[QAExample] | None = None
    for source in (s.strip() for s in sources.split(",") if s.strip()):
        if _looks_local(source):
            train += read_squad_json(Path(source), config.skip_bad_answers)
        else:
            hub_train, hub_validation = _read_hub(source, config)
            train += hub_train
            if hub_validation is not None:
                validation = (validation or []) + hub_validation
    return train, validation


def _looks_local(source: str) -> bool:
    return source.lower().endswith(".json") or Path(source).exists() or source.startswith((".", "/", "~"))


def read_squad_json(path: Path, skip_bad_answers: bool = False) -> list[QAExample]:
    """Examples of a SQuAD v1.1 / v2.0 JSON file ({"data": [{"title", "paragraphs": [...]}]})."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"SQuAD file not found: {path}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise DataError(f"{path}: not SQuAD JSON (expected an object with a 'data' list of articles)")
    examples = []
    for article in document["data"]:
        for paragraph in _field(article, "paragraphs", path, "article"):
            context = _field(paragraph, "context", path, "paragraph")
            for qa in _field(paragraph, "qas", path, "paragraph"):
                example = _example(qa, context, article.get("title") or "", path, skip_bad_answers)
                if example is not None:
                    examples.append(example)
    return examples


def _field(record, key: str, path: Path, what: str):
    if not isinstance(record, dict) or key not in record:
        raise DataError(f"{path}: a {what} has no {key!r} field")
    return record[key]


def _example(qa: dict, context: str, title: str, path: Path, skip_bad_answers: bool) -> QAExample | None:
    qid = str(_field(qa, "id", path, "question"))
    question = _field(qa, "question", path, f"question (id {qid})")
    impossible = bool(qa.get("is_impossible", False))
    answers = [] if impossible else checked_answers(qa.get("answers") or [], context, qid, path, skip_bad_answers)
    if not impossible and not answers:
        if skip_bad_answers:
            return None
        raise DataError(f"{path}: question {qid} has no answers and is not marked is_impossible")
    return QAExample(qid, question, context, tuple(answers), title)


def checked_answers(raw: list[dict], context: str, qid: str, where, skip_bad: bool) -> list[Answer]:
    """Answers whose text is found at answer_start. Spaces around the text are trimmed; the
    trimmed text may start at answer_start or after the leading spaces (files differ)."""
    answers = []
    for item in raw:
        text, start = item.get("text"), item.get("answer_start")
        if not isinstance(text, str) or not isinstance(start, int):
            raise DataError(f"{where}: question {qid} has an answer without 'text' or integer 'answer_start'")
        trimmed = text.strip()
        found = [s for s in (start + len(text) - len(text.lstrip()), start)
                 if trimmed and context[s:s + len(trimmed)] == trimmed]
        if found:
            answers.append(Answer(trimmed, found[0]))
        elif not skip_bad:
            raise DataError(f"{where}: question {qid}: answer {trimmed[:60]!r} not found in the context at "
                            f"answer_start {start} (found {context[start:start + len(trimmed)][:60]!r}); "
                            "fix the file or pass --skip-bad-answers")
    return answers


def _read_hub(name: str, config: QADataConfig) -> tuple[list[QAExample], list[QAExample] | None]:
    """A `datasets` hub name with SQuAD columns (id, title, context, question, answers); needs network."""
    def examples(part) -> list[QAExample]:
        return [e for e in (_hub_example(row, name, config) for row in part) if e is not None]

    return read_hub(name, config.subset, ("id", "context", "question", "answers"), examples)


def _hub_example(row: dict, name: str, config: QADataConfig) -> QAExample | None:
    raw = [{"text": t, "answer_start": s} for t, s in zip(row["answers"]["text"], row["answers"]["answer_start"])]
    answers = checked_answers(raw, row["context"], str(row["id"]), name, config.skip_bad_answers)
    if raw and not answers:
        return None
    return QAExample(str(row["id"]), row["question"], row["context"], tuple(answers), row.get("title") or "")


def write_squad_json(examples: list[QAExample], path: Path) -> Path:
    """Write examples as a SQuAD v2.0-style file (one article per title, one paragraph per context)."""
    articles: dict[str, dict[str, list]] = {}
    for e in examples:
        paragraphs = articles.setdefault(e.title, {})
        paragraphs.setdefault(e.context, []).append({
            "id": e.id, "question": e.question, "is_impossible": e.is_impossible,
            "answers": [{"text": a.text, "answer_start": a.start} for a in e.answers]})
    data = [{"title": title, "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs.items()]}
            for title, paragraphs in articles.items()]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "v2.0", "data": data}, ensure_ascii=False), encoding="utf-8")
    return path
