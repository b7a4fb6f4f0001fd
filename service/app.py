"""The application: `create_app(settings)` builds a FastAPI app whose lifespan starts one batcher
per model, warms the models up in the background (/readyz turns 200 when done) and, on shutdown,
drains the batchers. Used by `service.main` (one process) and by each HTTP worker of
`service.scheduler.supervisor` (handed in by `service.main`), whose batchers stand in for those of
the model process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
from collections.abc import AsyncIterator, Callable

from fastapi import Depends, FastAPI

from service.errors import install_error_handlers
from service.metrics import Metrics
from service.middleware import BodyLimitMiddleware, RequestMetricsMiddleware
from service.open_inference.binary import ProtocolBodyMiddleware
from service.open_inference.protocol import ProtocolError
from service.routes.dependencies import error_responses, require_api_key
from service.routes.framework_bypass import FrameworkBypass
from service.routes.inference_api import inference_api
from service.routes.models import models as model_routes
from service.routes.models import ops
from service.routes.open_inference import v2, v2_health
from service.routes.openapi import install_limits
from service.routes.schemas import ErrorBody
from service.routes.tei import tei_routers
from service.tei.schemas import ErrorResponse as TEIErrorBody
from service.routes.v1 import v1_router
from service.serving.loading import LoadedModels, load_models
from service.serving.state import ModelProcess, ServiceState, WarmUpError
from service.settings import Settings
from service.web import card_routes, web_router
from service.web.page import PageOptions

log = logging.getLogger("service")

DESCRIPTION = (
    "Text classification and extractive question answering with distilled BERT models on ONNX "
    "Runtime, with dynamic batching. "
    "Errors have the body {\"error\": {\"status\", \"type\", \"message\", \"field\"?}}."
)


Stop = Callable[[str], None]


def log_fatal(message: str) -> None:
    log.critical("%s", message)


def _watch_warm_up(on_fatal: Stop) -> Callable[[asyncio.Task], None]:
    """A done-callback: a failed warm-up stops start-up at once, with its message."""

    def done(task: asyncio.Task) -> None:
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        on_fatal(f"start-up stopped: {exc}" if isinstance(exc, WarmUpError)
                 else f"start-up stopped: warm-up raised {type(exc).__name__}: {exc}")

    return done


def _lifespan(state: ServiceState, models_given: bool, on_fatal: Stop):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not models_given:
            state.models = load_models(state.settings)
        state.start()
        warm_up = asyncio.get_running_loop().create_task(state.warm_up(), name="warm-up")
        warm_up.add_done_callback(_watch_warm_up(on_fatal))
        try:
            yield
        finally:
            if not warm_up.done():
                warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await warm_up  # its failure was reported by the done-callback
            await state.stop()
            state.metrics.close_worker(os.getpid())
            log.info("batchers drained; bye")

    return lifespan


def _telemetry_option(enabled: bool) -> dict:
    """FastAPI's native OpenTelemetry instrumentation (newer FastAPI releases): on, it asks the
    global providers on every request whether to record, about 6% of a short request's CPU time
    here; off unless asked for. Older releases have no such option."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {} if enabled else {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(settings: Settings, models: LoadedModels | None = None, on_fatal: Stop = log_fatal,
               remote: ModelProcess | None = None) -> FastAPI:
    """A new app with its own metrics registry. Without `models`, the lifespan loads them.
    `on_fatal(message)` is called when start-up cannot complete (a model failed its warm-up).
    With `remote`, the models run in the model process (an HTTP worker of `serve --workers N`)."""
    metrics = Metrics(multiprocess=settings.workers > 1)
    state = ServiceState(settings=settings, metrics=metrics, models=models or LoadedModels({}), remote=remote)
    app = FastAPI(
        title="distilserve",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan(state, models is not None, on_fatal),
        **_telemetry_option(settings.fastapi_telemetry),
    )
    app.state.service = state
    install_error_handlers(app)
    install_limits(app, settings)
    # Auth (and its 401 and bearer scheme in the OpenAPI document) only when there is a key.
    tei, tei_health = tei_routers(health_at_root=not settings.web_page)
    routers = [(v1_router(), ErrorBody), (model_routes, ErrorBody), (v2, ProtocolError), (tei, TEIErrorBody),
               (inference_api, TEIErrorBody)]
    if settings.web_page:
        routers.append((card_routes(), ErrorBody))
    for router, error_model in routers:
        auth = {"dependencies": [Depends(require_api_key)], "responses": error_responses(401, model=error_model)}
        app.include_router(router, **(auth if settings.api_key is not None else {}))
    app.include_router(ops)
    if settings.web_page:
        app.include_router(web_router(PageOptions(settings.api_key is not None, settings.web_refresh_s)))
    app.include_router(v2_health)
    app.include_router(tei_health)
    app.add_middleware(FrameworkBypass, state=state)  # innermost: the routes' own code, less around it
    app.add_middleware(ProtocolBodyMiddleware)  # inside the body limit: reads what it lets through
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    return app
