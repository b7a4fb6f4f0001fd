"""The answer-span bounds of the contract: which characters of a context an answer span shows.

Both halves use it -- the service when it answers, `distill`'s QA metrics when it scores the same
answers -- so that a span is shown and scored the same way. A span that starts or ends inside a
word is widened to the whole word; then surrounding whitespace and punctuation that is not part of
the answer is trimmed: a comma or colon at either end, a closing bracket or quote without its
opening one (and the reverse), a sentence's final period (kept after an abbreviation such as "U.S.").
"""

from __future__ import annotations

_EDGE = ",;:!?"  # never the first or last character of an answer
_PAIRS = {"(": ")", "[": "]", "{": "}", "\"": "\"", "\u201c": "\u201d", "\u00ab": "\u00bb"}
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}


def _in_word(ch: str) -> bool:
    """A character that BERT's pre-tokenizer keeps inside a word (letters and digits, not CJK)."""
    return ch.isalnum() and not ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")


def _widen(context: str, start: int, end: int) -> tuple[int, int]:
    while 0 < start < end and _in_word(context[start - 1]) and _in_word(context[start]):
        start -= 1
    while start < end < len(context) and _in_word(context[end - 1]) and _in_word(context[end]):
        end += 1
    return start, end


def _trim_once(text: str, start: int, end: int) -> tuple[int, int]:
    """One character off either end when it is whitespace or punctuation outside the answer."""
    first, last = text[start], text[end - 1]
    if first.isspace() or first in _EDGE or first in _CLOSERS and first != "\"":
        return start + 1, end
    if first in _PAIRS and _PAIRS[first] not in text[start + 1:end]:
        return start + 1, end
    if last.isspace() or last in _EDGE or last in _PAIRS and last != "\"":
        return start, end - 1
    if last in _CLOSERS and _CLOSERS[last] not in text[start:end - 1]:
        return start, end - 1
    if last == "." and not _abbreviation(text[start:end]):
        return start, end - 1
    return start, end


def _abbreviation(answer: str) -> bool:
    """Whether the final period belongs to the last word ("U.S.", "Jr.", "a.m.")."""
    word = answer.split()[-1][:-1] if answer.split() else ""
    return "." in word or (len(word) <= 2 and word[:1].isupper())


def answer_bounds(context: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) of the answer shown for the span [start, end) of `context`: widened to whole
    words, then trimmed of whitespace and stray punctuation; the span itself when trimming would
    leave nothing (an answer that is only punctuation)."""
    start, end = _widen(context, start, end)
    trimmed = start, end
    while trimmed[0] < trimmed[1]:
        step = _trim_once(context, *trimmed)
        if step == trimmed:
            break
        trimmed = step
    return trimmed if trimmed[0] < trimmed[1] else (start, end)
