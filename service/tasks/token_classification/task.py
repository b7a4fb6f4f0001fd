"""Token classification (named entities), like `pipeline("token-classification")`:
/v1/token-classification answers a list of entities per text; on /v2 the input `text` gives one
`entities` element per text, the same list as JSON text (its length varies from text to text,
which a tensor of numbers could not hold)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelfolder.agreement import rule_for
from modelfolder.manifest import TOKEN_CLASSIFICATION, Manifest, TokenClassificationDefaults
from service.batching.batcher import ItemResult
from service.open_inference.protocol import Parameters
from service.open_inference.tensors import parse_parameters
from service.tasks.base import (
    Answered,
    Call,
    Columns,
    Endpoint,
    OutputTensor,
    ServingTask,
    TaskTensors,
    text_limits,
)
from service.tasks.token_classification.entities import Aggregation
from service.tasks.token_classification.run import tag_texts
from service.tasks.token_classification.schemas import TokenClassificationRequest, TokenClassificationResponse

TOKENS = Endpoint(
    "/v1/token-classification", "token_classification", TokenClassificationRequest, TokenClassificationResponse,
    summary="Tag the entities of texts (named entities)",
    description="A list of entities per text, each {entity_group, score, word, start, end} (aggregation "
    "none: {entity, score, index, word, start, end} per sub-token); start/end are character offsets "
    "into the text. Long texts are cut into overlapping windows.",
    tags=("token classification",),
    limits=text_limits("TokenClassificationRequest", "inputs", "token_max_text_chars"),
)


class TokenParameters(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    aggregation_strategy: Aggregation = "first"
    stride: int | None = Field(None, ge=0)


class TokenClassificationTask(ServingTask):
    name = TOKEN_CLASSIFICATION
    endpoints = (TOKENS,)
    form = "tokens"
    card_metrics = (("entity_f1", "entity F1"), ("entity_precision", "entity precision"),
                    ("entity_recall", "entity recall"))
    agreement = rule_for(TOKEN_CLASSIFICATION)

    async def answer(self, call: Call, body: TokenClassificationRequest) -> Answered:
        single = isinstance(body.inputs, str)
        texts = [body.inputs] if single else body.inputs
        field = (lambda i: "inputs") if single else (lambda i: f"inputs[{i}]")
        found, results = await tag_texts(call, texts, body.aggregation_strategy, body.ignore_labels,
                                         body.stride, "inputs", field)
        return (found[0] if single else found), results

    def tensors(self, manifest: Manifest) -> TaskTensors:
        return TaskTensors(("text",), (OutputTensor("entities", "BYTES", (-1,)),))

    async def infer_v2(self, call: Call, texts: dict[str, list[str]], parameters: Parameters
                       ) -> tuple[Columns, list[ItemResult]]:
        options = parse_parameters(TokenParameters, parameters)
        rows = texts["text"]
        found, results = await tag_texts(call, rows, options.aggregation_strategy, ["O"], options.stride,
                                         "text", lambda i: f"text[{i}]")
        return {"entities": ("BYTES", [len(rows)], [json.dumps(f, ensure_ascii=False) for f in found])}, results

    def model_info(self, manifest: Manifest) -> dict[str, Any]:
        defaults = manifest.token_classification or TokenClassificationDefaults()
        return {"token_classification": defaults.model_dump()}
