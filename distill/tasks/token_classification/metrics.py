"""Entity-level precision, recall and F1: an entity counts as found only when a predicted entity
has exactly its span and its type (micro-averaged over all entities of all sentences).

Entities are read from tags with the rules of CoNLL's `conlleval` script, which are also the
default (non-strict) mode of the seqeval library, and the same for IOB1 and IOB2 tags:
- `B-X` always starts an entity of type X;
- `I-X` continues an entity of type X, and starts one when the previous tag is `O`, of another
  type, or there is no previous tag (an IOB1 entity start; in IOB2 data a stray `I-` the model
  predicted after `O` still counts as an entity, as seqeval counts it by default);
- `O`, a `B-` tag or a change of type ends the current entity.
So `B-PER I-PER` is one entity, `I-PER I-PER` is one, `B-PER B-PER` two, `I-PER I-LOC` two.

When nothing is predicted, precision is 0 (as seqeval's default); when nothing is gold, recall is
0; F1 is 0 when precision + recall is 0.
"""

from __future__ import annotations

from collections.abc import Sequence

OUTSIDE = "O"
Entity = tuple[str, int, int]  # type, first word, last word (inclusive)


def _split(tag: str) -> tuple[str, str]:
    """(prefix, type): ("O", "") for O."""
    return (OUTSIDE, "") if tag == OUTSIDE else (tag[:1], tag[2:])


def _ends(previous: tuple[str, str], current: tuple[str, str]) -> bool:
    prefix, kind = previous
    return prefix != OUTSIDE and (current[0] in (OUTSIDE, "B") or kind != current[1])


def _starts(previous: tuple[str, str], current: tuple[str, str]) -> bool:
    prefix, kind = current
    return prefix == "B" or (prefix == "I" and (previous[0] == OUTSIDE or previous[1] != kind))


def entities(tags: Sequence[str]) -> list[Entity]:
    """The entities of one sentence's tags, in order."""
    found: list[Entity] = []
    previous, start = (OUTSIDE, ""), -1
    for index, tag in enumerate([*tags, OUTSIDE]):
        current = _split(tag)
        if start >= 0 and _ends(previous, current):
            found.append((previous[1], start, index - 1))
            start = -1
        if _starts(previous, current):
            start = index
        previous = current
    return found


def entity_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, float]:
    """entity_precision, entity_recall and entity_f1 (fractions) of predicted tag sequences against
    the gold ones, sentence by sentence."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(predicted)} predicted sentences for {len(gold)} gold ones")
    hits = gold_count = predicted_count = 0
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(f"sentence {index}: {len(predicted_tags)} predicted tags for {len(gold_tags)} words")
        truth, guess = set(entities(gold_tags)), set(entities(predicted_tags))
        hits += len(truth & guess)
        gold_count += len(truth)
        predicted_count += len(guess)
    precision = hits / predicted_count if predicted_count else 0.0
    recall = hits / gold_count if gold_count else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"entity_precision": precision, "entity_recall": recall, "entity_f1": f1}
