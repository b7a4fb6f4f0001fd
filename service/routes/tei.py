"""text-embeddings-inference's HTTP API (`service.tei`): every route under /models/{name}/ for each
model, and at the root for the default model (`--default-model`, else the only one), as TEI serves
its one model; `POST /` (and SageMaker's `/invocations`) routed by the default model's type as TEI
routes it (/predict for a classifier, /embed for an embedding model). The work goes through the
model's batcher like /v1's (`task_call`); errors have TEI's body {"error", "error_type"} and statuses
(`service.errors`); answers carry TEI's timing headers."""

from __future__ import annotations

import inspect
import time
from typing import Any, Awaitable, Callable

import orjson
from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from service.errors import EmptyBatch, ModelNotFound, NotReady, WrongModelType, invalid_input
from service.routes.dependencies import State, error_responses
from service.routes.task_call import task_call
from service.serving.state import ServiceState
from service.tasks.base import Call
from service.tasks.registry import get_task
from service.tasks.text.run import check_texts
from service.tei import run, schemas
from service.tei.info import info

VERSION = "0.1.0"
TAGS = ["text-embeddings-inference"]
ERRORS = error_responses(400, 404, 413, 422, 424, 429, 503, 504, model=schemas.ErrorResponse)
USE = {"embedding": "/embed", "classifier": "/predict"}
Handler = Callable[..., Awaitable[Response]]


def default_model(state: ServiceState) -> str:
    """The model of the root routes: --default-model, else the only model loaded."""
    if state.settings.default_model is not None:
        return state.settings.default_model
    names = sorted(state.models.runtimes)
    if len(names) == 1:
        return names[0]
    raise ModelNotFound(f"no default model: {len(names)} models are loaded ({', '.join(names) or 'none'}); "
                        "start the server with --default-model NAME, or send to /models/NAME/...", field="model")


def open_call(request: Request, state: ServiceState, name: str | None, wanted: str | None) -> tuple[Call, run.Meter]:
    """The model's Call (503 before ready, 404 unknown) and the request's meter; TEI's 424 for a
    model whose type is not `wanted`."""
    started = time.monotonic()
    model = name if name is not None else default_model(state)
    runtime, batcher = state.lookup(model)
    request.state.model = model
    kind = get_task(runtime.task).tei_type
    if wanted is not None and kind != wanted:
        what = "an embedding" if wanted == "embedding" else "a classifier"
        hint = f": use {USE[kind]}" if kind in USE else ""
        raise WrongModelType(f"model {model!r} is not {what} model (it is a {runtime.task} model{hint})", field="model")
    return task_call(request, state, runtime, batcher, started), run.Meter(started)


def answer(data: Any, call: Call | None = None, meter: run.Meter | None = None) -> Response:
    headers = meter.headers(call.runtime.provider) if call is not None and meter is not None else None
    return Response(orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json",
                    headers=headers)


def _texts(inputs: str | list[str], limit: int) -> list[str]:
    if isinstance(inputs, str):
        return [inputs]
    run.check_batch(len(inputs), limit)
    return inputs


async def embed(body: schemas.EmbedRequest, request: Request, state: ServiceState, name: str | None) -> Response:
    call, meter = open_call(request, state, name, "embedding")
    texts = _texts(body.inputs, state.settings.max_inputs)
    run.check_prompt(body.prompt_name)
    vectors = await run.embed(call, meter, texts, bool(body.truncate), body.truncation_direction, body.normalize,
                              body.dimensions)
    return answer(vectors, call, meter)


async def embed_all(body: schemas.EmbedAllRequest, request: Request, state: ServiceState, name: str | None) -> Response:
    call, _ = open_call(request, state, name, "embedding")
    _texts(body.inputs, state.settings.max_inputs)
    raise WrongModelType(f"model {call.runtime.name!r} gives pooled embeddings only (its graph has no per-token "
                         "output); use /embed")


async def predict(body: schemas.PredictRequest, request: Request, state: ServiceState, name: str | None) -> Response:
    call, meter = open_call(request, state, name, "classifier")
    single = not (isinstance(body.inputs, list) and isinstance(body.inputs[0], list))
    items = [[body.inputs] if isinstance(body.inputs, str) else body.inputs] if single else body.inputs
    if not single:
        run.check_batch(len(items), state.settings.max_inputs)
    texts = run.item_texts(items, call.runtime.manifest.pairs, call.runtime.name, single)
    found = await run.predict(call, meter, texts, bool(body.truncate), body.truncation_direction, body.raw_scores)
    return answer(found[0] if single else found, call, meter)


async def rerank(body: schemas.RerankRequest, request: Request, state: ServiceState, name: str | None) -> Response:
    if not body.texts:
        raise EmptyBatch("`texts` cannot be empty", field="texts")
    run.check_batch(len(body.texts), state.settings.max_inputs, "texts")
    call, _ = open_call(request, state, name, None)
    raise WrongModelType(f"model {call.runtime.name!r} is not a re-ranker model (it is a {call.runtime.task} "
                         "model)", field="model")


async def similarity(body: schemas.SimilarityRequest, request: Request, state: ServiceState,
                     name: str | None) -> Response:
    call, meter = open_call(request, state, name, "embedding")
    sentences = body.inputs.sentences
    if not sentences:
        raise EmptyBatch("`inputs.sentences` cannot be empty", field="inputs.sentences")
    run.check_batch(len(sentences) + 1, state.settings.max_inputs, "inputs.sentences")
    parameters = body.parameters or schemas.SimilarityParameters()
    run.check_prompt(parameters.prompt_name)
    vectors = await run.embed(call, meter, [body.inputs.source_sentence, *sentences], bool(parameters.truncate),
                              parameters.truncation_direction, None)
    return answer(run.cosines(vectors[0], vectors[1:]), call, meter)


async def tokenize(body: schemas.TokenizeRequest, request: Request, state: ServiceState, name: str | None) -> Response:
    call, _ = open_call(request, state, name, None)
    texts = _texts(body.inputs, state.settings.max_inputs)
    run.check_prompt(body.prompt_name)
    check_texts(texts, state.settings, "inputs", (lambda i: "inputs") if isinstance(body.inputs, str)
                else (lambda i: f"inputs[{i}]"))
    return answer(run.tokens(call.runtime, texts, body.add_special_tokens))


async def decode(body: schemas.DecodeRequest, request: Request, state: ServiceState, name: str | None) -> Response:
    call, _ = open_call(request, state, name, None)
    single = not (body.ids and isinstance(body.ids[0], list))
    rows = [body.ids] if single else body.ids
    if not single:
        run.check_batch(len(rows), state.settings.max_inputs, "ids")
    return answer(run.decode(call.runtime, rows, body.skip_special_tokens, single))


def _validated(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_input(exc.errors()) from None


async def by_type(body: Any, request: Request, state: ServiceState, name: str | None) -> Response:
    """POST /: /predict for a classifier, /embed for an embedding model."""
    runtime = state.loaded(default_model(state))
    kind = get_task(runtime.task).tei_type
    if kind == "classifier":
        return await predict(_validated(schemas.PredictRequest, body), request, state, None)
    if kind == "embedding":
        return await embed(_validated(schemas.EmbedRequest, body), request, state, None)
    raise WrongModelType(f"model {runtime.name!r} is a {runtime.task} model, which text-embeddings-inference's "
                         "POST / does not serve; use its /v1 route", field="model")


async def model_info(request: Request, state: ServiceState, name: str | None) -> Response:
    runtime = state.loaded(name if name is not None else default_model(state))
    request.state.model = runtime.name
    batcher = state.batchers.get(runtime.name)
    return answer(info(runtime, state.settings, batcher.limits if batcher is not None else None, VERSION))


async def health(request: Request, state: ServiceState, name: str | None) -> Response:
    """200 (empty body) when the model is warmed up; TEI's 503 "Unhealthy" before."""
    model = name if name is not None else default_model(state)
    state.loaded(model)
    if not state.ready or state.warmed.get(model) != "ready":
        raise NotReady(f"unhealthy: model {model!r} is {state.warmed.get(model, 'not ready')}")
    return Response(status_code=200)


ROUTES: list[tuple[str, str, Handler, Any, Any, str]] = [  # method, path, handler, body, response, summary
    ("POST", "/embed", embed, schemas.EmbedRequest, schemas.EmbedResponse, "Pooled embeddings (TEI)"),
    ("POST", "/embed_all", embed_all, schemas.EmbedAllRequest, list[list[list[float]]],
     "Per-token embeddings (TEI): not available, the graphs give pooled vectors (424)"),
    ("POST", "/predict", predict, schemas.PredictRequest, schemas.PredictResponse, "Every label, best first (TEI)"),
    ("POST", "/rerank", rerank, schemas.RerankRequest, list[dict], "Reranking (TEI): no model here reranks (424)"),
    ("POST", "/similarity", similarity, schemas.SimilarityRequest, schemas.SimilarityResponse,
     "Cosine similarity of source_sentence to each sentence (TEI)"),
    ("POST", "/tokenize", tokenize, schemas.TokenizeRequest, schemas.TokenizeResponse, "Tokens (TEI)"),
    ("POST", "/decode", decode, schemas.DecodeRequest, schemas.DecodeResponse, "Text of token ids (TEI)"),
    ("GET", "/info", model_info, None, schemas.Info, "The model (TEI's info)"),
    ("GET", "/health", health, None, None, "200 when the model is ready, 503 before (TEI)"),
]


def _route(handler: Handler, body: Any, per_model: bool) -> Handler:
    """The route function: the body typed as `body`, and the path's `name` for /models/{name}/."""

    async def route(request: Request, state: ServiceState, **fields: Any) -> Response:
        args = (fields["body"],) if body is not None else ()
        return await handler(*args, request, state, fields.get("name"))

    kind = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter("request", kind, annotation=Request),
                  inspect.Parameter("state", kind, annotation=State)]
    if body is not None:
        parameters.append(inspect.Parameter("body", kind, annotation=body))
    if per_model:
        parameters.append(inspect.Parameter("name", kind, annotation=str))
    route.__signature__ = inspect.Signature(parameters, return_annotation=Response)  # type: ignore[attr-defined]
    route.__name__ = f"{'model_' if per_model else ''}{handler.__name__}_tei"
    return route


def tei_routers(health_at_root: bool = False) -> tuple[APIRouter, APIRouter]:
    """TEI's routes, and its health checks apart (no API key, as TEI's are public); with
    `health_at_root` (no web page at /) also TEI's GET / health check."""
    router, public = APIRouter(tags=TAGS), APIRouter(tags=TAGS)
    empty = {"response_class": Response, "responses": {**ERRORS, 200: {"description": "An empty body"}}}
    if health_at_root:
        public.add_api_route("/", _route(health, None, False), methods=["GET"],
                             summary="200 when the default model is ready, 503 before (TEI's GET /)", **empty)
    for method, path, handler, body, response, summary in ROUTES:
        for prefix in ("", "/models/{name}"):
            target = public if handler is health else router
            target.add_api_route(prefix + path, _route(handler, body, bool(prefix)), methods=[method],
                                 response_model=response, summary=summary,
                                 **(empty if response is None else {"responses": ERRORS}))
    any_body = Body(description="The default model's /predict body (a classifier) or /embed body (an "
                    "embedding model).")
    for path in ("/", "/invocations"):
        root = _route(by_type, Any, False)
        root.__signature__ = root.__signature__.replace(parameters=[  # type: ignore[attr-defined]
            *list(root.__signature__.parameters.values())[:2],  # type: ignore[attr-defined]
            inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=dict[str, Any], default=any_body)])
        router.add_api_route(path, root, methods=["POST"], response_model=schemas.PredictResponse | schemas.EmbedResponse,
                             responses=ERRORS, summary="TEI's POST /: /predict or /embed by the default model's type")
    return router, public
