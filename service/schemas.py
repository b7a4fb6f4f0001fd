"""Request and response bodies (shapes follow the Hugging Face pipelines)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from service.tasks import ScoreFunction


# A constrained string: pydantic then checks that it is real text (a JSON string may hold a lone
# UTF-16 surrogate such as "\ud800", which no tokenizer and no UTF-8 encoder accepts).
Text = Annotated[str, Field(min_length=0)]
ModelName = Annotated[str, Field(min_length=1)]



class TextPair(BaseModel):
    """A pair of texts, as the Hugging Face text-classification pipeline takes it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: Text = Field(description="The first text of the pair.")
    text_pair: Text = Field(description="The second text of the pair.")


class Score(BaseModel):
    score: float


# Tags of the branches of `inputs`; errors.py leaves them out of the field names it reports.
ONE_TEXT, ONE_PAIR, ITEMS = "one text", "one pair", "items"
UNION_TAGS = frozenset({ONE_TEXT, ONE_PAIR, ITEMS})


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


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"inputs": ["a wonderful film", "a dull film"], "top_k": 2}]
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


class LabelScore(BaseModel):
    label: str
    score: float


ClassifyResponse = list[LabelScore] | list[list[LabelScore]] | Score | list[Score]


class VariantInfo(BaseModel):
    file: str
    precision: str
    size_bytes: int
    recommended: bool
    validation: dict[str, Any]


class ModelInfo(BaseModel):
    name: str
    task: str
    labels: list[str]
    max_seq_len: int
    variant: str = Field(description="The variant in use.")
    provider: str = Field(description="The ONNX Runtime execution provider in use.")
    variants: dict[str, VariantInfo]
    teacher: str | None = None
    student_layers: int | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    qa: dict[str, Any] | None = Field(
        None, description="Question answering: the request defaults (the model's training settings)."
    )
    pairs: bool = Field(False, description="The model takes {text, text_pair} items, not single texts.")
    regression: bool = Field(False, description="The model answers one {score} per input, not labels.")
    checks: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Start-up checks of variants the export could not validate (fp16 exported "
        "without a GPU), by variant: status (passed, failed, skipped), against, provider, examples, "
        "max_abs_diff, agreement, note. A variant that did not pass is not used by auto.",
    )
    batching: dict[str, Any] | None = Field(
        None, description="The batching limits in use: max_items, max_tokens, max_padding, max_wait_ms."
    )
    created_at: str | None = None


class FailedModel(BaseModel):
    name: str
    error: str


class ModelList(BaseModel):
    models: list[ModelInfo]
    failed: list[FailedModel] = Field(
        default_factory=list, description="Folders skipped at start-up (--skip-bad-models)."
    )


class Health(BaseModel):
    status: str
    models: dict[str, str] = Field(default_factory=dict)


class ErrorDetail(BaseModel):
    status: int
    type: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class QAInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(min_length=1, description="The question.")
    context: str = Field(min_length=1, description="The text holding the answer.")


class QARequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"question": "Where is the museum?", "context": "The museum is in Zürich."},
                {"inputs": [{"question": "Who?", "context": "Ada wrote it."}], "top_k": 2},
            ]
        },
    )

    model: ModelName | None = Field(
        None, description="Model name; may be left out when one question-answering model is loaded."
    )
    question: str | None = Field(None, min_length=1, description="One question (with `context`).")
    context: str | None = Field(None, min_length=1, description="The context of `question`.")
    inputs: Annotated[list[QAInput], Field(min_length=1)] | None = Field(
        None, description="Several {question, context} pairs instead of `question` and `context` "
        "(answer: one entry per pair)."
    )
    top_k: int = Field(1, ge=1, description="How many answers per question, best first; above 1 "
                       "each question's answers come as a list.")
    max_answer_len: int | None = Field(
        None, ge=1, description="Longest answer in tokens; default: the model's (its manifest), else 15."
    )
    doc_stride: int | None = Field(
        None, ge=0, description="Tokens shared by neighbouring windows of a long context; default: "
        "the model's (its manifest), else 128 -- in both cases at most half the context tokens of a window.",
    )
    max_question_len: int | None = Field(
        None, ge=1, description="The question is cut to this many tokens; default: the model's, else 64."
    )
    handle_impossible_answer: bool | None = Field(
        None, description="Let the empty answer (no answer in the context) compete, scored by "
        "the CLS token; it comes as {answer: \"\", start: 0, end: 0}. Default: the model's "
        "(true when it was trained on SQuAD v2-style data), else false.",
    )


class QAAnswer(BaseModel):
    answer: str = Field(description="context[start:end]")
    score: float
    start: int = Field(description="Character offset of the answer in the context.")
    end: int = Field(description="Character offset just after the answer.")


QAResponse = QAAnswer | list[QAAnswer] | list[list[QAAnswer]]
