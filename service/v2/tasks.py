"""Which tensors each task takes and gives under the protocol, and how a request of each task
runs: on the /v1 plumbing (same checks, tokenization, batcher and decoding)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal

import numpy as np
from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.batching import Batcher, ItemResult
from service.errors import InvalidInput
from service.manifest import CLASSIFICATION, QUESTION_ANSWERING, REGRESSION
from service.routes.answer import Pair, answer_pairs, check_contexts, request_options
from service.routes.classify import run_texts
from service.runtime import ModelRuntime
from service.state import ServiceState
from service.tasks import ScoreFunction, apply_function, classification_scores
from service.v2.protocol import Datatype, ModelMetadata, Parameters, TensorMetadata

PLATFORM = "onnxruntime_onnx"
Columns = dict[str, tuple[Datatype, list[int], list[Any]]]  # output name -> datatype, shape, data
Run = Callable[[Request, ServiceState, ModelRuntime, Batcher, dict[str, list[str]], Parameters, float],
               Awaitable[tuple[Columns, list[ItemResult]]]]


@dataclass(frozen=True)
class TaskTensors:
    inputs: tuple[str, ...]  # BYTES inputs of shape [-1], all of the same length
    outputs: tuple[tuple[str, Datatype], ...]  # name, datatype; shape [-1] (logits: [-1, labels])
    run: Run


class ClassifierParameters(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    truncation: bool = False
    function_to_apply: ScoreFunction = "softmax"


class QAParameters(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    top_k: Literal[1] = 1  # one answer per pair: the outputs have one row per input row
    max_answer_len: int | None = Field(None, ge=1)
    doc_stride: int | None = Field(None, ge=0)
    max_question_len: int | None = Field(None, ge=1)
    handle_impossible_answer: bool | None = None


def _parameters(model: type[BaseModel], parameters: Parameters) -> Any:
    try:
        return model.model_validate(parameters)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "parameters." + ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None


class RegressionParameters(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    truncation: bool = False
    function_to_apply: ScoreFunction = "none"


async def _run_rows(request: Request, state: ServiceState, runtime: ModelRuntime, batcher: Batcher,
                    texts: dict[str, list[str]], truncation: bool, started: float) -> list[ItemResult]:
    """The `text` rows (with their `text_pair` rows for a model that takes pairs) through /v1's checks."""
    rows = texts["text"]
    if runtime.manifest.pairs:
        if len(texts["text_pair"]) != len(rows):
            raise InvalidInput(f"text_pair: {len(texts['text_pair'])} texts for {len(rows)} texts",
                               field="text_pair")
        rows = list(zip(rows, texts["text_pair"]))
    return await run_texts(request, state, runtime, batcher, rows, truncation, "text", lambda i: f"text[{i}]", started)


async def _regress(request: Request, state: ServiceState, runtime: ModelRuntime, batcher: Batcher,
                   texts: dict[str, list[str]], parameters: Parameters, started: float
                   ) -> tuple[Columns, list[ItemResult]]:
    options = _parameters(RegressionParameters, parameters)
    results = await _run_rows(request, state, runtime, batcher, texts, options.truncation, started)
    scores = [float(apply_function(r.output, options.function_to_apply)[0]) for r in results]
    return {"score": ("FP32", [len(scores)], scores)}, results


async def _classify(request: Request, state: ServiceState, runtime: ModelRuntime, batcher: Batcher,
                    texts: dict[str, list[str]], parameters: Parameters, started: float
                    ) -> tuple[Columns, list[ItemResult]]:
    options = _parameters(ClassifierParameters, parameters)
    results = await _run_rows(request, state, runtime, batcher, texts, options.truncation, started)
    labels = runtime.manifest.labels
    best = [classification_scores(r.output, labels, 1, options.function_to_apply)[0] for r in results]
    logits = np.stack([r.output for r in results]).astype(np.float32)
    n = len(results)
    return {
        "label": ("BYTES", [n], [b["label"] for b in best]),
        "score": ("FP32", [n], [b["score"] for b in best]),
        "logits": ("FP32", [n, len(labels)], logits.ravel().tolist()),
    }, results


async def _answer(request: Request, state: ServiceState, runtime: ModelRuntime, batcher: Batcher,
                  texts: dict[str, list[str]], parameters: Parameters, started: float
                  ) -> tuple[Columns, list[ItemResult]]:
    options = request_options(_parameters(QAParameters, parameters), runtime)
    questions, contexts = texts["question"], texts["context"]
    if len(questions) != len(contexts):
        raise InvalidInput(f"context: {len(contexts)} contexts for {len(questions)} questions", field="context")
    if len(questions) > state.settings.max_inputs:
        raise InvalidInput(f"question: {len(questions)} questions, at most {state.settings.max_inputs} "
                           "per request", field="question")
    pairs = [Pair(q, c, suffix=f"[{i}]") for i, (q, c) in enumerate(zip(questions, contexts))]
    check_contexts(pairs, state.settings)
    answers, results = await answer_pairs(request, state, runtime, batcher, pairs, options, "context", started)
    best = [a[0] for a in answers]
    n = len(pairs)
    return {
        "answer": ("BYTES", [n], [a["answer"] for a in best]),
        "score": ("FP32", [n], [a["score"] for a in best]),
        "start": ("INT64", [n], [a["start"] for a in best]),
        "end": ("INT64", [n], [a["end"] for a in best]),
    }, results


TASK_TENSORS: dict[str, TaskTensors] = {
    CLASSIFICATION: TaskTensors(("text",), (("label", "BYTES"), ("score", "FP32"), ("logits", "FP32")), _classify),
    REGRESSION: TaskTensors(("text",), (("score", "FP32"),), _regress),
    QUESTION_ANSWERING: TaskTensors(
        ("question", "context"), (("answer", "BYTES"), ("score", "FP32"), ("start", "INT64"), ("end", "INT64")),
        _answer,
    ),
}


def tensors_of(runtime: ModelRuntime) -> TaskTensors:
    """The model's tensors: its task's, with a second BYTES input `text_pair` when it takes pairs."""
    tensors = TASK_TENSORS[runtime.task]
    if runtime.manifest.pairs:
        return TaskTensors((*tensors.inputs, "text_pair"), tensors.outputs, tensors.run)
    return tensors


def model_metadata(runtime: ModelRuntime) -> ModelMetadata:
    tensors = tensors_of(runtime)
    labels = len(runtime.manifest.labels)
    return ModelMetadata(
        name=runtime.name, versions=[], platform=PLATFORM,
        inputs=[TensorMetadata(name=n, datatype="BYTES", shape=[-1]) for n in tensors.inputs],
        outputs=[TensorMetadata(name=n, datatype=d, shape=[-1, labels] if n == "logits" else [-1])
                 for n, d in tensors.outputs],
        parameters={"task": runtime.task, "variant": runtime.variant, "max_seq_len": runtime.max_seq_len},
    )
