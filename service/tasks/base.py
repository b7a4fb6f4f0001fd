"""The serving task: everything task-specific on the online side, behind one interface.

A `ServingTask` owns its request items and their checks, the encoding into model inputs, the
decoding of outputs into answers (`answer` for /v1, `infer_v2` for /v2), its /v2 tensors, the
fp16 agreement rule of its start-up check, the page's form and the model card's metric names.
Routes, batchers and the runtime are generic: they ask the task object of a model's manifest task
(`service.tasks.registry.get_task`) and never compare task names.

A task reaches the service through a `Call`: the model, the settings and metrics, and the two ways
to run work (`infer`: token sequences through the model's batcher; `off_loop`: CPU-heavy work on
the preprocessing threads). Tasks therefore import neither the routes nor the service state.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, ClassVar

from pydantic import BaseModel

from modelfolder.manifest import Manifest
from modelfolder.variants import AgreementRule
from service.batching.batcher import ItemResult
from service.errors import InputTooLong
from service.metrics import Metrics
from service.open_inference.protocol import Datatype, Parameters
from service.runtime.model import ModelRuntime
from service.settings import Settings

Columns = dict[str, tuple[Datatype, list[int], list[Any]]]  # /v2 output name -> datatype, shape, data


@dataclass(frozen=True)
class EncodedJSON:
    """A /v1 answer the task wrote as JSON itself (embeddings: thousands of float32 numbers, which
    the standard library's encoder writes about twenty times slower)."""

    body: bytes


Answered = tuple[Any, list[ItemResult]]  # a /v1 answer (JSON-ready, or EncodedJSON) and the batcher's results


@dataclass(frozen=True)
class Limit:
    """A setting that bounds a request field, written into the OpenAPI document
    (`service.routes.openapi`): schema, property, which branch of it (its JSON type; "a[]b": the b
    branch of the items of the a branch), keyword, setting."""

    schema: str
    prop: str
    where: str
    keyword: str
    setting: str


def text_limits(schema: str, prop: str, chars: str) -> tuple[Limit, ...]:
    """The limits of a field that holds one text or a list of texts: the length of the text and of
    each listed text (the setting `chars`), and the list's length (`max_inputs`)."""
    return (Limit(schema, prop, "string", "maxLength", chars), Limit(schema, prop, "array", "maxItems", "max_inputs"),
            Limit(schema, prop, "array[]string", "maxLength", chars))


@dataclass(frozen=True)
class Endpoint:
    """A /v1 route of one or more tasks (`text-classification` and `regression` share theirs)."""

    path: str  # "/v1/classify"
    name: str  # the route function's name (FastAPI builds the OpenAPI operationId from it)
    request: type[BaseModel]  # the request body
    response: Any  # the response model, for the OpenAPI document
    summary: str
    description: str
    tags: tuple[str, ...] = ()
    default_model: Callable[[Settings], str] | None = None  # the model when the body names none
    fast: bool = False  # the short road (`service.routes.framework_bypass`) takes well-formed JSON bodies
    limits: tuple[Limit, ...] = ()


@dataclass(frozen=True)
class OutputTensor:
    name: str
    datatype: Datatype
    shape: tuple[int, ...]  # -1: any size (the first dimension is the input rows)


@dataclass(frozen=True)
class TaskTensors:
    """What a model of the task takes and gives under the Open Inference Protocol."""

    inputs: tuple[str, ...]  # BYTES inputs of shape [-1], all of the same length
    outputs: tuple[OutputTensor, ...]


@dataclass(frozen=True)
class Call:
    """One request's model and the service's means to run it, as the routes hand them to a task."""

    runtime: ModelRuntime
    settings: Settings
    metrics: Metrics
    infer: Callable[[list[list[int]]], Awaitable[list[ItemResult]]]  # sequences -> results, in order
    off_loop: Callable[[Callable[[], Any]], Awaitable[Any]]  # run work on the preprocessing threads

    def too_long(self, field: str, message: str) -> InputTooLong:
        """The 422 for an input past a length limit, counted as a `too_long` rejection."""
        self.metrics.rejections.labels(self.runtime.name, "too_long").inc()
        return InputTooLong(f"{field}: {message}", field=field)


class ServingTask(ABC):
    """One contract task as the service serves it. Subclasses set the class attributes and
    implement `answer`, `tensors` and `infer_v2`."""

    name: ClassVar[str]  # the contract's task name (modelfolder.manifest)
    endpoints: ClassVar[tuple[Endpoint, ...]]  # the /v1 routes; the first is the page's
    form: ClassVar[str]  # the page's form for the task (service/web/static/playground.js FORMS)
    card_metrics: ClassVar[tuple[tuple[str, str], ...]]  # report row key, name for people
    agreement: ClassVar[AgreementRule]  # the start-up check's rule for "decides as fp32 does"
    segments: ClassVar[bool] = False  # token_type_ids mark the second segment (after the first [SEP])
    # text-embeddings-inference's model type of the task's models ("classifier", "embedding"), which
    # decides its routes (/predict or /embed, and POST /); None: a task TEI does not serve
    tei_type: ClassVar[str | None] = None

    @abstractmethod
    async def answer(self, call: Call, body: Any) -> Answered:
        """The /v1 answer to a validated request body of one of `endpoints`."""

    @abstractmethod
    def tensors(self, manifest: Manifest) -> TaskTensors:
        """The /v2 inputs and outputs of a model with this manifest."""

    @abstractmethod
    async def infer_v2(self, call: Call, texts: dict[str, list[str]], parameters: Parameters
                       ) -> tuple[Columns, list[ItemResult]]:
        """The /v2 output columns of the input texts (by input name, all of one length)."""

    def model_info(self, manifest: Manifest) -> dict[str, Any]:
        """The task's own fields of the model's /v1/models entry."""
        return {}

    def hub_tasks(self) -> tuple[str, ...]:
        """The HF Inference API's tasks (its pipeline tags) that a model of this task answers on
        `POST /models/{name}`."""
        return (self.name,)

    def hub_body(self, inputs: Any, parameters: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
        """The fields of the task's /v1 request body for the HF Inference API's payload
        {"inputs", "parameters"} (what huggingface_hub's InferenceClient sends)."""
        return {"inputs": inputs, "parameters": parameters}

    def hub_answer(self, answer: Any, body: Any) -> Any:
        """The HF Inference API's answer from the /v1 answer to `body`."""
        return answer
