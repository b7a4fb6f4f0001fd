"""Request and response bodies of text-embeddings-inference's HTTP API, field for field as its router
declares them (router/src/http/types.rs and lib.rs of huggingface/text-embeddings-inference), checked
strictly: a JSON type other than the documented one is a 422.

Where this service differs, the field says so: `truncation_direction` takes TEI's `Left`/`Right` and
the lower-case spelling huggingface_hub's InferenceClient sends; unknown fields are ignored as TEI ignores
them; `prompt_name` is accepted but the
models here have no prompts (any name is refused); token-id inputs, which TEI also takes, are refused
(this server tokenizes with the model's own tokenizer, and ids of another would be silently wrong).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from service.request_fields import ITEMS, ONE_PAIR, ONE_TEXT, Text

TruncationDirection = Literal["Left", "Right", "left", "right"]
ErrorType = Literal["Unhealthy", "Backend", "Overloaded", "Validation", "Tokenizer", "Empty"]


def _text_or_list(value: object) -> str:
    return ITEMS if isinstance(value, list) else ONE_TEXT


Input = Annotated[
    Annotated[Text, Tag(ONE_TEXT)] | Annotated[list[Text], Tag(ITEMS)],
    Discriminator(_text_or_list),
]


class Strict(BaseModel):
    """Strict types; fields TEI does not know are ignored, as TEI's router ignores them (clients
    such as tei-client send `normalize` to /embed_all)."""

    model_config = ConfigDict(extra="ignore", strict=True)


TRUNCATE = Field(None, description="Cut texts longer than the model's maximum input length; null or "
                 "false: such a text is refused with 413 (TEI's auto_truncate is off here).")
DIRECTION = Field("right", description="Which end of a text `truncate` cuts: TEI's Right or Left (the "
                  "lower-case spelling is taken too). Left is for single texts only.")
PROMPT = Field(None, description="TEI's sentence-transformers prompt; the models here have none, so any "
               "name is refused with 422.")


class EmbedRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"inputs": ["What is Deep Learning?"]}]})

    inputs: Input = Field(description="One text or a list of texts (answer: one vector per text).")
    truncate: bool | None = TRUNCATE
    truncation_direction: TruncationDirection = DIRECTION
    prompt_name: str | None = PROMPT
    normalize: bool = Field(True, description="L2-normalise the vectors. A model whose graph normalises "
                            "(its manifest's embedding.normalize) refuses false with 422.")
    dimensions: int | None = Field(None, ge=1, description="The model's dimension or null; another "
                                   "value is refused with 422 (the vectors are not trained to be cut).")


class EmbedAllRequest(Strict):
    inputs: Input
    truncate: bool | None = TRUNCATE
    truncation_direction: TruncationDirection = DIRECTION
    prompt_name: str | None = PROMPT


def _predict_shape(value: object) -> str:
    if isinstance(value, str):
        return ONE_TEXT
    if isinstance(value, list) and value and isinstance(value[0], list):
        return ITEMS
    return ONE_PAIR


Sequence = Annotated[list[Text], Field(min_length=1, max_length=2)]
PredictInput = Annotated[
    Annotated[Text, Tag(ONE_TEXT)] | Annotated[Sequence, Tag(ONE_PAIR)]
    | Annotated[list[Sequence], Field(min_length=1), Tag(ITEMS)],
    Discriminator(_predict_shape),
]


class PredictRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"inputs": "What is Deep Learning?"}]})

    inputs: PredictInput = Field(description='One text, a pair ["text", "text_pair"], or a batch of them '
                                 '[["text"], ["text", "text_pair"], ...] (answer: one list per item).')
    truncate: bool | None = TRUNCATE
    truncation_direction: TruncationDirection = DIRECTION
    raw_scores: bool = Field(False, description="The logits themselves; false: softmax over the labels "
                             "(sigmoid for a model with one output).")


class RerankRequest(Strict):
    query: Text
    texts: list[Text]
    truncate: bool | None = TRUNCATE
    truncation_direction: TruncationDirection = DIRECTION
    raw_scores: bool = False
    return_text: bool = False


class SimilarityInput(Strict):
    source_sentence: Text = Field(description="The text the others are compared with.")
    sentences: list[Text] = Field(description="The texts compared with source_sentence.")


class SimilarityParameters(Strict):
    truncate: bool | None = TRUNCATE
    truncation_direction: TruncationDirection = DIRECTION
    prompt_name: str | None = PROMPT


class SimilarityRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"inputs": {"source_sentence": "What is Deep Learning?", "sentences": ["What is Machine Learning?"]}}]})

    inputs: SimilarityInput
    parameters: SimilarityParameters | None = None


class TokenizeRequest(Strict):
    inputs: Input
    add_special_tokens: bool = True
    prompt_name: str | None = PROMPT


def _ids_shape(value: object) -> str:
    return ITEMS if isinstance(value, list) and value and isinstance(value[0], list) else ONE_TEXT


TokenIds = list[Annotated[int, Field(ge=0)]]
InputIds = Annotated[
    Annotated[TokenIds, Tag(ONE_TEXT)] | Annotated[list[TokenIds], Tag(ITEMS)],
    Discriminator(_ids_shape),
]


class DecodeRequest(Strict):
    ids: InputIds
    skip_special_tokens: bool = True


class Prediction(BaseModel):
    score: float
    label: str


class SimpleToken(BaseModel):
    id: int
    text: str
    special: bool
    start: int | None
    stop: int | None


class ClassifierModel(BaseModel):
    id2label: dict[str, str]
    label2id: dict[str, int]


class Info(BaseModel):
    model_id: str
    model_sha: str | None = None
    model_dtype: str
    model_type: dict[str, Any] = Field(description='TEI\'s {"classifier": {id2label, label2id}} or '
                                       '{"embedding": {pooling}}; models of other tasks name their task.')
    max_concurrent_requests: int
    max_input_length: int
    max_batch_tokens: int
    max_batch_requests: int | None = None
    max_client_batch_size: int
    auto_truncate: bool
    tokenization_workers: int
    version: str
    sha: str | None = None
    docker_label: str | None = None


class ErrorResponse(BaseModel):
    error: str
    error_type: ErrorType


EmbedResponse = list[list[float]]
PredictResponse = list[Prediction] | list[list[Prediction]]
SimilarityResponse = list[float]
TokenizeResponse = list[list[SimpleToken]]
DecodeResponse = list[str]
