"""The field types request bodies share, read by the /v1 task bodies (`service.tasks`), the Open
Inference Protocol's bodies (`service.open_inference.protocol`) and the error handlers
(`service.errors`), which leave the union tags out of the field names they report; and the HF
Inference API's `parameters` object, which every /v1 body takes beside its root-level options."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

# A constrained string: pydantic then checks that it is real text (a JSON string may hold a lone
# UTF-16 surrogate such as "\ud800", which no tokenizer and no UTF-8 encoder accepts).
Text = Annotated[str, Field(min_length=0)]
ModelName = Annotated[str, Field(min_length=1)]

# Tags of the branches of an `inputs` union (one text, one pair, a list of items).
ONE_TEXT, ONE_PAIR, ITEMS = "one text", "one pair", "items"
UNION_TAGS = frozenset({ONE_TEXT, ONE_PAIR, ITEMS})


def parameters_model(name: str, options: type[BaseModel]) -> type[BaseModel]:
    """The HF Inference API's `parameters` object of a request whose root-level options are the
    fields of `options`: the same fields, types, limits and defaults (what a request sets is told
    apart by `model_fields_set`), every other name refused."""
    fields: dict[str, Any] = {key: (field.annotation, field) for key, field in options.model_fields.items()}
    return create_model(name, __config__=ConfigDict(extra="forbid", strict=True), **fields)


PARAMETERS_DESCRIPTION = ("The HF Inference API's spelling of the options above (what huggingface_hub's "
                          "InferenceClient sends): the same names and meaning as at the root; one option given "
                          "both ways with different values is refused with 422 naming parameters.<option>.")
