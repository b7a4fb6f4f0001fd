"""/v1/embeddings bodies: the shapes of OpenAI's embeddings API (`client.embeddings.create`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator
from pydantic_core import PydanticCustomError

from service.request_fields import ITEMS, ONE_TEXT, PARAMETERS_DESCRIPTION, ModelName, Text, parameters_model

EncodingFormat = Literal["float", "base64"]


def _shape(value: object) -> str:
    return ITEMS if isinstance(value, list) else ONE_TEXT


Inputs = Annotated[
    Annotated[Text, Tag(ONE_TEXT)] | Annotated[list[Text], Field(min_length=1), Tag(ITEMS)],
    Discriminator(_shape),
]


def _token_ids(value: Any) -> bool:
    """A list of token ids, or a list of such lists (what OpenAI's API also takes as `input`)."""
    if not isinstance(value, list) or not value:
        return False
    rows = value if all(isinstance(v, list) for v in value) else [value]
    return all(isinstance(t, int) and not isinstance(t, bool) for row in rows for t in row) and any(rows)


class EmbeddingsOptions(BaseModel):
    """The options of /v1/embeddings (at the root, or in `parameters`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    encoding_format: EncodingFormat = Field(
        "float", description="float: a list of numbers; base64: the little-endian float32 bytes, base64-encoded "
        "(what OpenAI's Python client asks for unless told otherwise, and decodes itself)."
    )
    dimensions: int | None = Field(
        None, ge=1, description="The model's dimension, or left out; any other value is refused with 422 "
        "(the model is not trained to be cut shorter)."
    )
    user: str | None = Field(None, description="Accepted for OpenAI compatibility and ignored.")
    truncation: bool = Field(
        False, description="Cut texts longer than the model's max_seq_len tokens; when false such a text is "
        "refused with 422 (an extension of OpenAI's API: send it with extra_body).",
    )


EmbeddingsParameters = parameters_model("EmbeddingsParameters", EmbeddingsOptions)


class EmbeddingsRequest(EmbeddingsOptions):
    model_config = ConfigDict(
        json_schema_extra={"examples": [
            {"model": "embeddings", "input": ["A man is playing a guitar.", "Someone plays an instrument."]},
            {"model": "embeddings", "input": "A cat sits on the mat.", "encoding_format": "base64"},
        ]},
    )

    input: Inputs = Field(
        description="One text (answer: one embedding) or a list of texts (answer: one embedding each, in "
        "order). An empty text is embedded too (the vector of [CLS] [SEP]). Token-id arrays are not "
        "accepted: this server tokenizes with the model's own tokenizer."
    )
    model: ModelName | None = Field(
        None, description="Model name; may be left out when one feature-extraction model is loaded."
    )
    parameters: EmbeddingsParameters | None = Field(None, description=PARAMETERS_DESCRIPTION)  # type: ignore[valid-type]

    @field_validator("input", mode="before")
    @classmethod
    def _no_token_ids(cls, value: Any) -> Any:
        if _token_ids(value):
            raise PydanticCustomError("token_ids", "token-id arrays are not accepted; send the text itself "
                                      "(a string or a list of strings)")
        return value


class Embedding(BaseModel):
    object: Literal["embedding"]
    index: int = Field(description="The position of the text in `input`.")
    embedding: list[float] | str = Field(description="The vector, or its float32 bytes in base64.")


class Usage(BaseModel):
    prompt_tokens: int = Field(description="Tokens the model read, special tokens included, after truncation.")
    total_tokens: int


class EmbeddingsResponse(BaseModel):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: Usage
