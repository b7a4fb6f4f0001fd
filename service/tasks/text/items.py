"""Request items of the text tasks (classification, regression): single texts and text pairs.

An input item is a string, or `{"text", "text_pair"}` as the Hugging Face text-classification
pipeline takes it; a request holds one item or a list. A model that takes pairs (its manifest's
`pairs`) must get pairs, a single-text model strings; the other shape is refused with 422 naming
what the model expects. A pair is tokenised as `[CLS] text [SEP] text_pair [SEP]` and goes through
the same batcher, length grouping and truncation as a single text (the longer text cut first).
"""

from __future__ import annotations

from typing import Callable, Union

from service.errors import InvalidInput
from service.tasks.text.schemas import TextPair

Text = Union[str, tuple[str, str]]  # what the tokenizer encodes: a text or a (text, text_pair) pair
FieldName = Callable[[int], str]  # text index -> how the request names it ("inputs[1]")


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


def row_texts(texts: dict[str, list[str]], pairs: bool) -> list[Text]:
    """The /v2 `text` rows, zipped with their `text_pair` rows for a model that takes pairs."""
    rows = texts["text"]
    if not pairs:
        return list(rows)
    if len(texts["text_pair"]) != len(rows):
        raise InvalidInput(f"text_pair: {len(texts['text_pair'])} texts for {len(rows)} texts", field="text_pair")
    return list(zip(rows, texts["text_pair"]))
