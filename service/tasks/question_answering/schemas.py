"""/v1/qa bodies: the shapes of `pipeline("question-answering")`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.request_fields import PARAMETERS_DESCRIPTION, ModelName, parameters_model


class QAInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(min_length=1, description="The question.")
    context: str = Field(min_length=1, description="The text holding the answer.")


class QAOptions(BaseModel):
    """The options of /v1/qa (at the root, or in `parameters`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

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


QARequestParameters = parameters_model("QARequestParameters", QAOptions)


class QARequest(QAOptions):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"question": "Where is the museum?", "context": "The museum is in Zürich."},
                {"inputs": [{"question": "Who?", "context": "Ada wrote it."}], "top_k": 2},
                {"question": "Who?", "context": "Ada wrote it.", "parameters": {"top_k": 2}},
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
    parameters: QARequestParameters | None = Field(None, description=PARAMETERS_DESCRIPTION)  # type: ignore[valid-type]


class QAAnswer(BaseModel):
    answer: str = Field(description="context[start:end]")
    score: float
    start: int = Field(description="Character offset of the answer in the context.")
    end: int = Field(description="Character offset just after the answer.")


QAResponse = QAAnswer | list[QAAnswer] | list[list[QAAnswer]]
