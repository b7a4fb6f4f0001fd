"""The Open Inference Protocol's REST endpoints under /v2 (its bodies and tensors:
`service.open_inference`): server health and metadata, model metadata and readiness, inference. Errors have the protocol's body {"error": "..."} (see
service.errors); health answers 200 or 400 as the protocol says (/readyz keeps its 503)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.errors import InvalidInput, ServiceError
from service.open_inference.protocol import (
    InferenceRequest,
    InferenceResponse,
    Liveness,
    ModelMetadata,
    ProtocolError,
    Readiness,
    RequestInput,
    RequestOutput,
    ServerMetadata,
    TensorMetadata,
)
from service.open_inference.tensors import text_elements
from service.routes.dependencies import State, error_responses
from service.routes.task_call import task_call, timing_headers
from service.runtime.model import ModelRuntime
from service.tasks.base import TaskTensors
from service.tasks.registry import get_task

SERVER_NAME, SERVER_VERSION = "distilserve", "0.1.0"
PLATFORM = "onnxruntime_onnx"
TAGS = ["open inference protocol (v2)"]
v2_health = APIRouter(prefix="/v2/health", tags=TAGS)
v2 = APIRouter(prefix="/v2", tags=TAGS)


class NotReadyV2(ServiceError):
    """The protocol's "false" of a health request: a 4xx (the /v1 probes answer 503)."""

    status, type = 400, "not_ready"


def _errors(*codes: int) -> dict:
    return error_responses(*codes, model=ProtocolError)


def model_metadata(runtime: ModelRuntime) -> ModelMetadata:
    """The model's tensors (its task's) and what was chosen at load time."""
    tensors = get_task(runtime.task).tensors(runtime.manifest)
    return ModelMetadata(
        name=runtime.name, versions=[], platform=PLATFORM,
        inputs=[TensorMetadata(name=n, datatype="BYTES", shape=[-1]) for n in tensors.inputs],
        outputs=[TensorMetadata(name=o.name, datatype=o.datatype, shape=list(o.shape)) for o in tensors.outputs],
        parameters={"task": runtime.task, "variant": runtime.variant, "max_seq_len": runtime.max_seq_len},
    )


@v2_health.get("/live", response_model=Liveness, summary="Server liveness (v2)")
async def server_live() -> Liveness:
    return Liveness(live=True)


@v2_health.get("/ready", response_model=Readiness, responses=_errors(400), summary="Server readiness (v2)")
async def server_ready(state: State) -> Readiness:
    """200 once every model is warmed up, 400 before (and while shutting down)."""
    if not state.ready:
        raise NotReadyV2(f"not ready: {state.warmed}")
    return Readiness(ready=True)


@v2.get("", response_model=ServerMetadata, summary="Server metadata (v2)")
async def server_metadata() -> ServerMetadata:
    return ServerMetadata(name=SERVER_NAME, version=SERVER_VERSION, extensions=[])


@v2.get("/models/{name}", response_model=ModelMetadata, responses=_errors(404), summary="Model metadata (v2)")
async def model_metadata_route(name: str, request: Request, state: State) -> ModelMetadata:
    runtime = state.loaded(name)
    request.state.model = name
    return model_metadata(runtime)


@v2.get("/models/{name}/ready", response_model=Readiness, responses=_errors(400, 404),
        summary="Model readiness (v2)")
async def model_ready(name: str, request: Request, state: State) -> Readiness:
    state.loaded(name)
    request.state.model = name
    if state.warmed.get(name) != "ready":
        raise NotReadyV2(f"model {name!r} is not ready ({state.warmed.get(name)})")
    return Readiness(name=name, ready=True)


def _texts(inputs: list[RequestInput], tensors: TaskTensors) -> dict[str, list[str]]:
    """Texts per input name; 422 for an unknown, repeated or missing input."""
    texts: dict[str, list[str]] = {}
    for i, tensor in enumerate(inputs):
        if tensor.name not in tensors.inputs:
            raise InvalidInput(f"inputs[{i}].name: unknown input {tensor.name!r} (the model takes "
                               f"{', '.join(tensors.inputs)})", field=f"inputs[{i}].name")
        if tensor.name in texts:
            raise InvalidInput(f"inputs[{i}].name: input {tensor.name!r} sent twice", field=f"inputs[{i}].name")
        texts[tensor.name] = text_elements(tensor, i)
    missing = [n for n in tensors.inputs if n not in texts]
    if missing:
        raise InvalidInput(f"inputs: missing input {missing[0]!r}", field="inputs")
    return texts


def _requested(outputs: list[RequestOutput] | None, tensors: TaskTensors) -> list[str]:
    """The output names to return, in order; every output when none are named."""
    known = [o.name for o in tensors.outputs]
    if outputs is None:
        return known
    names: list[str] = []
    for i, output in enumerate(outputs):
        if output.name not in known or output.name in names:
            problem = "unknown" if output.name not in known else "repeated"
            raise InvalidInput(f"outputs[{i}].name: {problem} output {output.name!r} (the model gives "
                               f"{', '.join(known)})", field=f"outputs[{i}].name")
        names.append(output.name)
    return names


@v2.post("/models/{name}/infer", response_model=InferenceResponse,
         responses=_errors(404, 413, 422, 429, 500, 503, 504), summary="Inference (v2)")
async def model_infer(name: str, body: InferenceRequest, request: Request, state: State) -> JSONResponse:
    """The model's task's tensors (GET /v2/models/{name}): classifiers: input `text` (BYTES, [N]) ->
    `label` (BYTES, [N]), `score` (FP32, [N]), `logits` (FP32, [N, labels]); regression: `score`.
    Question answering: `question` and `context` (BYTES, [N]) -> `answer` (BYTES), `score` (FP32),
    `start` and `end` (INT64, character offsets), each [N]. A model taking pairs adds `text_pair`."""
    started = time.monotonic()
    runtime, batcher = state.lookup(name, field="name")
    request.state.model = name
    task = get_task(runtime.task)
    tensors = task.tensors(runtime.manifest)
    texts = _texts(body.inputs, tensors)
    wanted = _requested(body.outputs, tensors)
    call = task_call(request, state, runtime, batcher, started)
    columns, results = await task.infer_v2(call, texts, body.parameters or {})
    outputs = [{"name": n, "datatype": columns[n][0], "shape": columns[n][1], "data": columns[n][2]}
               for n in wanted]
    answer = {"model_name": name, "outputs": outputs} | ({"id": body.id} if body.id is not None else {})
    return JSONResponse(answer, headers=timing_headers(results))
