"""The HF Inference API's `POST /models/{name}`: the payloads huggingface_hub's InferenceClient sends
to the URL it is given (`InferenceClient("http://host:port/models/NAME")`, no path appended), read
by the model's task, and the shapes it parses. An embedding model answers feature extraction
(`{"inputs": text or texts, options at the root or in "parameters"}`, TEI's /embed) and sentence
similarity (`{"inputs": {"source_sentence", "sentences"}}`, TEI's /similarity); every other model
its /v1 route, the payload turned into its /v1 body by the task (`hub_body`) and the answer into
the API's shape (`hub_answer`). Errors have TEI's body, whose `error` InferenceClient shows; a payload
the model's task cannot read names what the model answers."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from service.errors import InvalidInput, invalid_input
from service.routes.dependencies import State
from service.routes.task_call import task_call, timing_headers
from service.routes.tei import ERRORS, embed, similarity
from service.routes.v1 import with_parameters
from service.runtime.model import ModelRuntime
from service.tasks.registry import get_task
from service.tei import schemas

inference_api = APIRouter(tags=["HF Inference API"])
PAYLOAD = Body(description='{"inputs", "parameters"} as huggingface_hub\'s InferenceClient sends it for the '
               "model's task (feature extraction: its options at the root or in parameters).")


def _does(runtime: ModelRuntime) -> str:
    methods = " and ".join(f"InferenceClient.{t.replace('-', '_')}" for t in get_task(runtime.task).hub_tasks())
    return f"model {runtime.name!r} is a {runtime.task} model: it answers {methods}"


def _validated(model: type, data: dict, runtime: ModelRuntime) -> Any:
    """The payload as `model`; a 422 naming the field and what the model answers."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = invalid_input(exc.errors())
        raise InvalidInput(f"{error.message} ({_does(runtime)})", field=error.field) from None


def _parameters(payload: dict[str, Any]) -> dict[str, Any]:
    parameters = payload.get("parameters")
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise InvalidInput("parameters: Input should be an object", field="parameters")
    return parameters


def _feature_extraction(payload: dict[str, Any], parameters: dict[str, Any], runtime: ModelRuntime) -> dict:
    """TEI's /embed body from InferenceClient's payload: its options at the root (as it sends them)
    or in `parameters`, one meaning; `encoding_format` float only (the answer is parsed as numbers)."""
    fields = {k: v for k, v in payload.items() if k != "parameters"}
    known = set(schemas.EmbedRequest.model_fields) | {"encoding_format"}
    unknown = sorted(set(fields) - known) + sorted(f"parameters.{k}" for k in set(parameters) - known)
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not an option of feature extraction ({_does(runtime)})", field=unknown[0])
    for key, value in parameters.items():
        if key in fields and fields[key] != value:
            raise InvalidInput(f"parameters.{key}: {value!r} differs from the root-level {key} {fields[key]!r}; "
                               "send the option once", field=f"parameters.{key}")
        fields[key] = value
    if fields.pop("encoding_format", None) not in (None, "float"):
        raise InvalidInput("encoding_format: this route answers numbers (float); base64 is served on "
                           "/v1/embeddings", field="encoding_format")
    return _validated(schemas.EmbedRequest, fields, runtime)


@inference_api.post("/models/{name}", responses=ERRORS, summary="The HF Inference API (InferenceClient)")
async def hub(name: str, request: Request, state: State, payload: dict[str, Any] = PAYLOAD) -> Response:
    """feature_extraction and sentence_similarity (embedding models: TEI's /embed and /similarity
    answers); text_classification (`[[{label, score}]]`, every label unless `top_k`),
    token_classification and question_answering (their /v1 answers)."""
    started = time.monotonic()
    runtime, batcher = state.lookup(name)
    request.state.model = name
    if "inputs" not in payload:
        raise InvalidInput(f"inputs: Field required ({_does(runtime)})", field="inputs")
    parameters = _parameters(payload)
    task = get_task(runtime.task)
    if task.tei_type == "embedding":
        if isinstance(payload["inputs"], dict):
            body = _validated(schemas.SimilarityRequest, payload, runtime)
            return await similarity(body, request, state, name)
        return await embed(_feature_extraction(payload, parameters, runtime), request, state, name)
    unknown = sorted(set(payload) - {"inputs", "parameters"})
    if unknown:
        raise InvalidInput(f"{unknown[0]}: not a field of the payload, which is {{\"inputs\", \"parameters\"}} "
                           f"({_does(runtime)})", field=unknown[0])
    endpoint = task.endpoints[0]
    body = _validated(endpoint.request, {"model": name, **task.hub_body(payload["inputs"], parameters,
                                                                          runtime.manifest)}, runtime)
    body = with_parameters(body)
    answer, results = await task.answer(task_call(request, state, runtime, batcher, started), body)
    return JSONResponse(task.hub_answer(answer, body), headers=timing_headers(results))
