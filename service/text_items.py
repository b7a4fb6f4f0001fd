"""/v1/classify inputs and answers beyond single-label texts: text pairs and regression.

An input item is a string, or `{"text", "text_pair"}` as the Hugging Face text-classification
pipeline takes it; a request holds one item or a list. A model that takes pairs (its manifest's
`pairs`) must get pairs, a single-text model strings; the other shape is refused with 422 naming
what the model expects. A pair is tokenised as `[CLS] text [SEP] text_pair [SEP]` and goes through
the same batcher, length grouping and truncation as a single text (the longer text cut first).

A regression model answers `{"score": value}` per input; `function_to_apply` defaults to "none"
for it and to "softmax" for a classifier.
"""

from __future__ import annotations

from typing import Union

from service.errors import InvalidInput
from service.manifest import REGRESSION, Manifest
from service.schemas import TextPair
from service.tasks import ScoreFunction, apply_function, classification_scores

Text = Union[str, tuple[str, str]]  # what the tokenizer encodes: a text or a (text, text_pair) pair


def item_text(item: str | TextPair, pairs: bool, model: str, field: str) -> Text:
    """The tokenizer input of one request item, refused when its shape is not the model's."""
    if pairs and isinstance(item, str):
        raise InvalidInput(f"{field}: model {model!r} takes text pairs; send "
                           '{"text": ..., "text_pair": ...} items, not strings', field=field)
    if not pairs and isinstance(item, TextPair):
        raise InvalidInput(f"{field}: model {model!r} takes single texts; send strings, not "
                           "{text, text_pair} items", field=field)
    return (item.text, item.text_pair) if isinstance(item, TextPair) else item


def characters(text: Text) -> int:
    """A text's length in characters (of a pair: its longer text; each may be as long as a text)."""
    return max(map(len, text)) if isinstance(text, tuple) else len(text)


def answer(manifest: Manifest, output, top_k: int | None, function: ScoreFunction | None):
    """One input's answer: [{label, score}] for a classifier, {score} for a regressor."""
    if manifest.task == REGRESSION:
        return {"score": float(apply_function(output, function or "none")[0])}
    return classification_scores(output, manifest.labels, top_k, function or "softmax")
