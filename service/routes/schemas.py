"""The bodies of the routes every task shares: model listings, health and errors. Each task's own
request and response bodies live with the task (`service.tasks`), on the field types of
`service.request_fields`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
    token_classification: dict[str, Any] | None = Field(
        None, description="Token classification: label_scheme and doc_stride (the model's training settings)."
    )
    embedding: dict[str, Any] | None = Field(
        None, description="Sentence embeddings: dimension, pooling and normalize (the manifest's block)."
    )
    endpoint: str = Field(description="The /v1 route that serves the model's task.")
    form: str = Field(description="The web page's playground form for the model's task.")
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
    param: str | None = Field(None, description="/v1/embeddings only: the field, as OpenAI's error names it.")
    code: str | None = Field(None, description="/v1/embeddings only: the type, as OpenAI's error names it.")


class ErrorBody(BaseModel):
    error: ErrorDetail
