"""What the text tasks (classification, regression) share: the /v1/classify and /v1/sentiment
routes, single texts or text pairs as items, one model input per item, and a /v2 `text` input
(with `text_pair` for a model that takes pairs). A subclass decodes one item's output."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from modelfolder.manifest import Manifest
from service.batching.batcher import ItemResult
from service.open_inference.protocol import Parameters
from service.open_inference.tensors import parse_parameters
from service.tasks.base import (
    Answered,
    Call,
    Columns,
    Endpoint,
    Limit,
    OutputTensor,
    ServingTask,
    TaskTensors,
    text_limits,
)
from service.tasks.scores import ScoreFunction
from service.tasks.text.items import item_text, row_texts
from service.tasks.text.run import run_texts
from service.tasks.text.schemas import ClassifyRequest, ClassifyResponse

LIMITS = (
    *text_limits("ClassifyRequest", "inputs", "max_text_chars"),
    Limit("TextPair", "text", "string", "maxLength", "max_text_chars"),
    Limit("TextPair", "text_pair", "string", "maxLength", "max_text_chars"),
)
CLASSIFY = Endpoint(
    "/v1/classify", "classify", ClassifyRequest, ClassifyResponse,
    summary="Classify texts or text pairs (or score them with a regression model)",
    description='Scores per input, best first, like `pipeline("text-classification")`.',
    fast=True, limits=LIMITS,
)
SENTIMENT = Endpoint(
    "/v1/sentiment", "sentiment", ClassifyRequest, ClassifyResponse, summary="Sentiment of texts (positive / negative)",
    description="The same as /v1/classify, on the sentiment model unless `model` names another.",
    default_model=lambda settings: settings.sentiment_model, fast=True, limits=LIMITS,
)


class TextParameters(BaseModel):
    """/v2 parameters of the text tasks; `function_to_apply`'s default is the task's."""

    model_config = ConfigDict(extra="ignore", strict=True)

    truncation: bool = False
    function_to_apply: ScoreFunction | None = None


class TextTask(ServingTask):
    endpoints = (CLASSIFY, SENTIMENT)
    form = "classify"
    outputs: ClassVar[tuple[OutputTensor, ...]]  # the /v2 outputs ("logits" gets the labels' dimension)

    @abstractmethod
    def decode(self, output, manifest: Manifest, top_k: int | None, function: ScoreFunction | None) -> Any:
        """One input's /v1 answer from its output row."""

    @abstractmethod
    def columns(self, results: list[ItemResult], manifest: Manifest, function: ScoreFunction | None) -> Columns:
        """The /v2 output columns of the results, one row per input."""

    async def answer(self, call: Call, body: ClassifyRequest) -> Answered:
        single = not isinstance(body.inputs, list)
        items = [body.inputs] if single else body.inputs
        field = (lambda i: "inputs") if single else (lambda i: f"inputs[{i}]")
        runtime = call.runtime
        texts = [item_text(item, runtime.manifest.pairs, runtime.name, field(i)) for i, item in enumerate(items)]
        results = await run_texts(call, texts, body.truncation, "inputs", field)
        answers = [self.decode(r.output, runtime.manifest, body.top_k, body.function_to_apply) for r in results]
        return (answers[0] if single else answers), results

    def hub_tasks(self) -> tuple[str, ...]:
        return ("text-classification",)

    def hub_body(self, inputs: Any, parameters: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
        """The HF Inference API answers every label unless `top_k` says otherwise."""
        return {"inputs": inputs, "parameters": parameters} | ({} if "top_k" in parameters else {"top_k": None})

    def hub_answer(self, answer: Any, body: ClassifyRequest) -> Any:
        """One input's labels nested in a list, as the HF Inference API answers them."""
        return answer if isinstance(body.inputs, list) else [answer]

    def tensors(self, manifest: Manifest) -> TaskTensors:
        outputs = tuple(OutputTensor(o.name, o.datatype, (-1, len(manifest.labels)) if o.name == "logits" else o.shape)
                        for o in self.outputs)
        return TaskTensors(("text", "text_pair") if manifest.pairs else ("text",), outputs)

    async def infer_v2(self, call: Call, texts: dict[str, list[str]], parameters: Parameters
                       ) -> tuple[Columns, list[ItemResult]]:
        options = parse_parameters(TextParameters, parameters)
        rows = row_texts(texts, call.runtime.manifest.pairs)
        results = await run_texts(call, rows, options.truncation, "text", lambda i: f"text[{i}]")
        return self.columns(results, call.runtime.manifest, options.function_to_apply), results
