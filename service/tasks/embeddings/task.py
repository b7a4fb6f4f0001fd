"""Sentence embeddings (feature extraction): `POST /v1/embeddings` in the shape of OpenAI's
embeddings API, one vector per text (mean-pooled and L2-normalised inside the model's graph, so a
dot product is a cosine similarity); on /v2 the input `text` gives an `embedding` FP32 [N, dim]."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from modelfolder.agreement import rule_for
from modelfolder.manifest import FEATURE_EXTRACTION, Manifest
from service.batching.batcher import ItemResult
from service.errors import EMBEDDINGS_PATH
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
from service.tasks.embeddings.schemas import EmbeddingsRequest, EmbeddingsResponse
from service.tasks.embeddings.vectors import check_dimensions, embedding_list, encode_answer, model_dimension
from service.tasks.text.items import FieldName
from service.tasks.text.run import text_sequences

EMBEDDINGS = Endpoint(
    EMBEDDINGS_PATH, "embeddings", EmbeddingsRequest, EmbeddingsResponse,
    summary="Embed texts (OpenAI's embeddings API)",
    description="One unit-length vector per text, as OpenAI's `client.embeddings.create` expects: "
    "`encoding_format` float or base64, `usage` counting the tokens the model read. Errors carry "
    "OpenAI's `param` and `code` next to the service's fields.",
    tags=("embeddings",), fast=True,
    limits=text_limits("EmbeddingsRequest", "input", "max_text_chars"),
)


class EmbeddingParameters(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    truncation: bool = False


async def embed(call: Call, texts: list[str], truncation: bool, whole: str, field: FieldName
                ) -> tuple[list[np.ndarray], int, list[ItemResult]]:
    """Every text's embedding, the tokens the model read (special tokens included) and the results."""
    sequences = await text_sequences(call, texts, truncation, whole, field)
    results = await call.infer(sequences)
    return [r.output for r in results], sum(map(len, sequences)), results


class EmbeddingsTask(ServingTask):
    name = FEATURE_EXTRACTION
    endpoints = (EMBEDDINGS,)
    form = "similarity"
    card_metrics = (("spearman", "Spearman (STS-B)"), ("mean_cosine", "mean cosine"))
    tei_type = "embedding"
    agreement = rule_for(FEATURE_EXTRACTION)

    async def answer(self, call: Call, body: EmbeddingsRequest) -> Answered:
        check_dimensions(body.dimensions, model_dimension(call.runtime.manifest))
        single = isinstance(body.input, str)
        texts = [body.input] if single else body.input
        field = (lambda i: "input") if single else (lambda i: f"input[{i}]")
        vectors, tokens, results = await embed(call, texts, body.truncation, "input", field)
        return encode_answer(embedding_list(vectors, body.encoding_format, call.runtime.name, tokens)), results

    def tensors(self, manifest: Manifest) -> TaskTensors:
        return TaskTensors(("text",), (OutputTensor("embedding", "FP32", (-1, model_dimension(manifest) or -1)),))

    async def infer_v2(self, call: Call, texts: dict[str, list[str]], parameters: Parameters
                       ) -> tuple[Columns, list[ItemResult]]:
        options = parse_parameters(EmbeddingParameters, parameters)
        rows = texts["text"]
        vectors, _, results = await embed(call, rows, options.truncation, "text", lambda i: f"text[{i}]")
        matrix = np.stack(vectors).astype(np.float32)
        return {"embedding": ("FP32", list(matrix.shape), matrix.ravel().tolist())}, results

    def hub_tasks(self) -> tuple[str, ...]:
        return ("feature-extraction", "sentence-similarity")

    def model_info(self, manifest: Manifest) -> dict[str, Any]:
        return {"embedding": manifest.embedding.model_dump() if manifest.embedding is not None else None}
