"""The /v1 inference routes: one POST route per endpoint of the serving tasks
(`service.tasks.registry.endpoints`), all answered by `answer_request`: move the options of the HF
Inference API's `parameters` object to the root, pick the model (404
unknown, 503 not ready, 422 not a model of the endpoint's tasks), hand the validated body to the
model's task, and return its answer with the timing headers. The short road past the framework
(`service.routes.framework_bypass`) calls `answer_request` too."""

from __future__ import annotations

import inspect
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from service.errors import InvalidInput
from service.routes.dependencies import INFERENCE_ERRORS, State
from service.routes.task_call import task_call, timing_headers
from service.serving.state import ServiceState
from service.tasks.base import EncodedJSON, Endpoint
from service.tasks.registry import endpoints, get_task


def with_parameters(body: BaseModel) -> BaseModel:
    """The body with the options of its HF Inference API `parameters` object moved to the root: one
    meaning for both spellings; an option given both ways with different values is a 422 naming it."""
    parameters = getattr(body, "parameters", None)
    if parameters is None:
        return body
    given = {key: getattr(parameters, key) for key in parameters.model_fields_set}
    for key, value in given.items():
        root = getattr(body, key)
        if key in body.model_fields_set and root != value:
            raise InvalidInput(f"parameters.{key}: {value!r} differs from the root-level {key} {root!r}; "
                               "send the option once", field=f"parameters.{key}")
    return body.model_copy(update=given | {"parameters": None})


def model_name(endpoint: Endpoint, tasks: tuple[str, ...], body: BaseModel, state: ServiceState) -> str:
    """The model a request names; else the endpoint's default, else the one model of its tasks."""
    if body.model:
        return body.model
    if endpoint.default_model is not None:
        return endpoint.default_model(state.settings)
    return state.default_model(tasks)


async def answer_request(request: Request, state: ServiceState, endpoint: Endpoint, tasks: tuple[str, ...],
                         body: BaseModel) -> Response:
    started = time.monotonic()
    body = with_parameters(body)
    name = model_name(endpoint, tasks, body, state)
    runtime, batcher = state.runtime(name, tasks)
    request.state.model = name  # only loaded models name a metrics label
    answer, results = await get_task(runtime.task).answer(task_call(request, state, runtime, batcher, started), body)
    # Returned as a ready response (already in the documented shape): no second validation pass.
    if isinstance(answer, EncodedJSON):
        return Response(answer.body, media_type="application/json", headers=timing_headers(results))
    return JSONResponse(answer, headers=timing_headers(results))


def _route(endpoint: Endpoint, tasks: tuple[str, ...]):
    """The route function of one endpoint, its body typed as the endpoint's request model."""

    async def route(body: BaseModel, request: Request, state: ServiceState) -> Response:
        return await answer_request(request, state, endpoint, tasks, body)

    parameter = inspect.Parameter.POSITIONAL_OR_KEYWORD
    route.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("body", parameter, annotation=endpoint.request),
        inspect.Parameter("request", parameter, annotation=Request),
        inspect.Parameter("state", parameter, annotation=State),
    ], return_annotation=Response)
    route.__name__ = endpoint.name
    return route


def v1_router() -> APIRouter:
    router = APIRouter()
    for endpoint, tasks in endpoints():
        router.add_api_route(
            endpoint.path, _route(endpoint, tasks), methods=["POST"], response_model=endpoint.response,
            responses=INFERENCE_ERRORS, summary=endpoint.summary, description=endpoint.description,
            tags=list(endpoint.tags) or None,
        )
    return router
