"""Model listing (/v1/models) and the operations routes: liveness, readiness, metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.batching.policy import BatchLimits
from service.errors import NotReady
from service.routes.dependencies import State, error_responses
from service.routes.schemas import FailedModel, Health, ModelInfo, ModelList, VariantInfo
from service.runtime.model import ModelRuntime
from service.tasks.registry import get_task

models = APIRouter(prefix="/v1")
ops = APIRouter(tags=["operations"])


def _batching(limits: BatchLimits) -> dict:
    return {"max_items": limits.max_items, "max_tokens": limits.max_tokens,
            "max_padding": limits.max_padding, "max_wait_ms": limits.max_wait_s * 1000.0}


def _model_info(runtime: ModelRuntime, limits: BatchLimits | None) -> ModelInfo:
    m = runtime.manifest
    task = get_task(m.task)
    variants = {
        key: VariantInfo(file=v.file, precision=v.precision, size_bytes=v.size_bytes,
                         recommended=v.recommended, validation=v.validation.model_dump())
        for key, v in m.variants.items()
    }
    return ModelInfo(
        name=runtime.name, task=m.task, labels=m.labels, max_seq_len=m.max_seq_len,
        variant=runtime.variant, provider=runtime.provider, variants=variants, teacher=m.teacher,
        student_layers=m.student_layers, metrics=m.metrics, created_at=m.created_at,
        pairs=m.pairs, endpoint=task.endpoints[0].path, form=task.form, **task.model_info(m),
        checks={k: c.as_dict() for k, c in runtime.checks.items()},
        batching=_batching(limits) if limits is not None else None,
    )


def _limits(state, name: str) -> BatchLimits | None:
    batcher = state.batchers.get(name)
    return batcher.limits if batcher is not None else None


@models.get("/models", response_model=ModelList, summary="Loaded models")
async def list_models(state: State) -> ModelList:
    runtimes = state.models.runtimes
    failed = [FailedModel(name=n, error=e) for n, e in sorted(state.models.failed.items())]
    return ModelList(models=[_model_info(runtimes[n], _limits(state, n)) for n in sorted(runtimes)],
                     failed=failed)


@models.get("/models/{name}", response_model=ModelInfo, responses=error_responses(404),
        summary="One loaded model")
async def get_model(name: str, request: Request, state: State) -> ModelInfo:
    runtime = state.loaded(name)
    request.state.model = name
    return _model_info(runtime, _limits(state, name))


@ops.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@ops.get("/readyz", response_model=Health, responses=error_responses(503), summary="Readiness")
async def readyz(state: State) -> Health:
    """200 once every model is loaded and warmed up; 503 before (and while shutting down)."""
    if not state.ready:
        raise NotReady(f"not ready: {state.warmed}")
    return Health(status="ready", models=dict(state.warmed))


@ops.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(state: State) -> Response:
    payload, content_type = state.metrics.exposition()
    return Response(payload, media_type=content_type)
