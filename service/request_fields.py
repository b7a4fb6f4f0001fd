"""The field types request bodies share, read by the /v1 task bodies (`service.tasks`), the Open
Inference Protocol's bodies (`service.open_inference.protocol`) and the error handlers
(`service.errors`), which leave the union tags out of the field names they report."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# A constrained string: pydantic then checks that it is real text (a JSON string may hold a lone
# UTF-16 surrogate such as "\ud800", which no tokenizer and no UTF-8 encoder accepts).
Text = Annotated[str, Field(min_length=0)]
ModelName = Annotated[str, Field(min_length=1)]

# Tags of the branches of an `inputs` union (one text, one pair, a list of items).
ONE_TEXT, ONE_PAIR, ITEMS = "one text", "one pair", "items"
UNION_TAGS = frozenset({ONE_TEXT, ONE_PAIR, ITEMS})
