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

from pydantic import BaseModel, ConfigDict, Field

from service.errors import InvalidInput
from service.manifest import REGRESSION, Manifest
from service.tasks import ScoreFunction, apply_function, classification_scores


class TextPair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The first text of the pair.")
    text_pair: str = Field(description="The second text of the pair.")


Item = Union[str, TextPair]
Inputs = Union[str, TextPair, list[Item]]
Text = Union[str, tuple[str, str]]  # what the tokenizer encodes: a text or a (text, text_pair) pair


class Score(BaseModel):
    score: float


def _field(single: bool, index: int) -> str:
    return "inputs" if single else f"inputs[{index}]"


def _text(item: Item, pairs: bool, model: str, field: str) -> Text:
    if pairs and isinstance(item, str):
        raise InvalidInput(f"{field}: model {model!r} takes text pairs; send "
                           '{"text": ..., "text_pair": ...} items, not strings', field=field)
    if not pairs and isinstance(item, TextPair):
        raise InvalidInput(f"{field}: model {model!r} takes single texts; send strings, not "
                           "{text, text_pair} items", field=field)
    return (item.text, item.text_pair) if isinstance(item, TextPair) else item


def texts_of(inputs: Inputs, manifest: Manifest, model: str, max_inputs: int, max_chars: int) -> list[Text]:
    """The request's items as tokenizer inputs, checked against the model's shape and the limits."""
    single = not isinstance(inputs, list)
    items = [inputs] if single else inputs
    if not items:
        raise InvalidInput("inputs: needs at least one text", field="inputs")
    if len(items) > max_inputs:
        raise InvalidInput(f"inputs: {len(items)} texts, at most {max_inputs} per request", field="inputs")
    texts = []
    for i, item in enumerate(items):
        field = _field(single, i)
        text = _text(item, manifest.pairs, model, field)
        length = sum(map(len, text)) if isinstance(text, tuple) else len(text)
        if length > max_chars:
            raise InvalidInput(f"{field}: {length} characters, at most {max_chars}", field=field)
        texts.append(text)
    return texts


def answer(manifest: Manifest, output, top_k: int | None, function: ScoreFunction | None):
    """One input's answer: [{label, score}] for a classifier, {score} for a regressor."""
    if manifest.task == REGRESSION:
        return {"score": float(apply_function(output, function or "none")[0])}
    return classification_scores(output, manifest.labels, top_k, function or "softmax")
