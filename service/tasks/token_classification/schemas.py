"""/v1/token-classification bodies: the shapes of `pipeline("token-classification")`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from service.request_fields import ITEMS, ONE_TEXT, PARAMETERS_DESCRIPTION, ModelName, Text, parameters_model
from service.tasks.token_classification.entities import Aggregation


def _shape(value: object) -> str:
    return ITEMS if isinstance(value, list) else ONE_TEXT


Inputs = Annotated[
    Annotated[Text, Tag(ONE_TEXT)] | Annotated[list[Text], Field(min_length=1), Tag(ITEMS)],
    Discriminator(_shape),
]


class TokenClassificationOptions(BaseModel):
    """The options of /v1/token-classification (at the root, or in `parameters`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    aggregation_strategy: Aggregation = Field(
        "first", description="none: every sub-token with its tag {entity, score, index, word, start, end}; "
        "simple: neighbouring sub-tokens of one entity grouped; first, average, max: sub-tokens merged into "
        "words (the tag of the first sub-token, of the averaged scores, of the best sub-token), then grouped "
        "{entity_group, score, word, start, end}. Default first: the model is trained to tag a word on its "
        "first sub-token.",
    )
    ignore_labels: list[str] = Field(["O"], description="Tags (or entity groups) left out of the answer.")
    stride: int | None = Field(
        None, ge=0, description="Tokens shared by neighbouring windows of a long text; default: the "
        "model's doc_stride (its manifest), at most half a window.",
    )


TokenClassificationParameters = parameters_model("TokenClassificationParameters", TokenClassificationOptions)


class TokenClassificationRequest(TokenClassificationOptions):
    model_config = ConfigDict(
        json_schema_extra={"examples": [
            {"inputs": "Angela Merkel visited Paris", "aggregation_strategy": "first"},
            {"inputs": ["Ada Lovelace lived in London"], "aggregation_strategy": "none"},
        ]},
    )

    model: ModelName | None = Field(
        None, description="Model name; may be left out when one token-classification model is loaded."
    )
    inputs: Inputs = Field(
        description="One text (answer: its list of entities) or a list of texts (answer: one list per text). "
        "A text longer than the model's max_seq_len is cut into overlapping windows."
    )
    parameters: TokenClassificationParameters | None = Field(  # type: ignore[valid-type]
        None, description=PARAMETERS_DESCRIPTION)


class Entity(BaseModel):
    entity_group: str | None = Field(None, description="The entity type (aggregated strategies).")
    entity: str | None = Field(None, description="The token's tag (aggregation none).")
    index: int | None = Field(None, description="The token's position in the tokenized text (aggregation none).")
    score: float
    word: str = Field(description="text[start:end]")
    start: int = Field(description="Character offset of the entity in the text.")
    end: int = Field(description="Character offset just after the entity.")


TokenClassificationResponse = list[Entity] | list[list[Entity]]
