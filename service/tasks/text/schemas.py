"""/v1/classify and /v1/sentiment bodies: the shapes of `pipeline("text-classification")`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from service.request_fields import ITEMS, ONE_PAIR, ONE_TEXT, PARAMETERS_DESCRIPTION, ModelName, Text, parameters_model
from service.tasks.scores import ScoreFunction


class TextPair(BaseModel):
    """A pair of texts, as the Hugging Face text-classification pipeline takes it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: Text = Field(description="The first text of the pair.")
    text_pair: Text = Field(description="The second text of the pair.")


class Score(BaseModel):
    score: float


def _shape(value: object) -> str:
    if isinstance(value, str):
        return ONE_TEXT
    return ITEMS if isinstance(value, list) else ONE_PAIR


Item = Annotated[Annotated[Text, Tag(ONE_TEXT)] | Annotated[TextPair, Tag(ONE_PAIR)], Discriminator(_shape)]
Inputs = Annotated[
    Annotated[Text, Tag(ONE_TEXT)] | Annotated[TextPair, Tag(ONE_PAIR)]
    | Annotated[list[Item], Field(min_length=1), Tag(ITEMS)],
    Discriminator(_shape),
]


class ClassifyOptions(BaseModel):
    """The options of /v1/classify and /v1/sentiment (at the root, or in `parameters`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    top_k: int | None = Field(
        1, ge=1, description="How many labels per input, best first; null: all labels."
    )
    function_to_apply: ScoreFunction | None = Field(
        None, description="softmax (single-label), sigmoid (multi-label) or none (logits); default: "
        "softmax for a classifier, none for a regression model."
    )
    truncation: bool = Field(
        False,
        description="Cut texts longer than the model's max_seq_len tokens; when false such a "
        "text is refused with 422.",
    )


ClassifyParameters = parameters_model("ClassifyParameters", ClassifyOptions)


class ClassifyRequest(ClassifyOptions):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"inputs": ["a wonderful film", "a dull film"], "top_k": 2},
                         {"inputs": "a wonderful film", "parameters": {"top_k": 2}}]
        },
    )

    model: ModelName | None = Field(
        None,
        description="Model name (a folder of the model repository). /v1/classify needs it unless "
        "only one classifier is loaded; /v1/sentiment defaults to the sentiment model.",
    )
    inputs: Inputs = Field(
        description="One text, or one {text, text_pair} pair for a model that takes pairs (answer: one "
        "list of {label, score}, or {score} from a regression model), or a list of them (answer: one per input)."
    )
    parameters: ClassifyParameters | None = Field(None, description=PARAMETERS_DESCRIPTION)  # type: ignore[valid-type]


class LabelScore(BaseModel):
    label: str
    score: float


ClassifyResponse = list[LabelScore] | list[list[LabelScore]] | Score | list[Score]
