"""Routes of the web page: the page and its static files (no API key), the live metrics snapshot
(no key, like /metrics), and each model's card and report files (API key, like /v1/models)."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from service.errors import ModelNotFound, ServiceError
from service.routes.dependencies import State, error_responses
from service.web.card import ModelCard, model_card
from service.web.files import media_type, read_report, servable_files
from service.tasks.registry import get_task
from service.web.live import LiveSnapshot, live_snapshot
from service.web.snippets import ClientSnippets, client_snippets
from service.web.page import CONTENT_SECURITY_POLICY, PageOptions, load_assets, render_page

NO_SNIFF = {"X-Content-Type-Options": "nosniff"}


class NotServed(ServiceError):
    status, type = 404, "not_found"


def _folder_files(state: State, name: str):
    runtime = state.models.runtimes.get(name)
    if runtime is None:
        known = ", ".join(sorted(state.models.runtimes)) or "none"
        raise ModelNotFound(f"unknown model {name!r} (loaded: {known})")
    return runtime, servable_files(runtime.folder)


def card_routes() -> APIRouter:
    """Each model's card and report files; the app adds the API key check (and its documented 401)
    when a key is set, as for /v1/models."""
    router = APIRouter(prefix="/v1/models", tags=["model card"])

    @router.get("/{name}/card", response_model=ModelCard, summary="The model's distillation report",
                responses=error_responses(404))
    async def card(name: str, state: State) -> ModelCard:
        """Teacher vs student vs ONNX variants from the folder's report.json, with retention and
        speed-up relative to the teacher; 404 when the folder holds no report."""
        runtime, files = _folder_files(state, name)
        report = read_report(runtime.folder)
        if report is None:
            raise NotServed(f"model {name!r} has no distillation report (report.json)")
        return model_card(name, runtime.task, report, set(files))

    @router.get("/{name}/clients", response_model=ClientSnippets, responses=error_responses(404),
                summary="How to call the model from TEI's clients and huggingface_hub's InferenceClient")
    async def clients(name: str, state: State) -> ClientSnippets:
        """Code for the model's type and task; `{base}` stands for the server's address."""
        runtime, _ = _folder_files(state, name)
        return client_snippets(name, get_task(runtime.task), state.settings.api_key is not None)

    @router.get("/{name}/files/{file}", summary="A report file of the model folder",
                response_class=FileResponse, responses=error_responses(404))
    async def folder_file(name: str, file: str, state: State) -> FileResponse:
        """Only report.json, report.md and the plots the report names; nothing else of the folder."""
        _, files = _folder_files(state, name)
        path = files.get(file)
        if path is None:
            raise NotServed(f"model {name!r}: {file!r} is not a report file of the folder "
                            f"(served: {', '.join(sorted(files)) or 'none'})")
        return FileResponse(path, media_type=media_type(file), headers=NO_SNIFF)

    return router


def web_router(options: PageOptions) -> APIRouter:
    """The page, its static files and the live snapshot (no API key); the page and its assets are
    read once, here. The model card routes are `card_routes`."""
    page = render_page(options)
    assets = load_assets()
    router = APIRouter()

    @router.get("/", include_in_schema=False, response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, **NO_SNIFF})

    @router.get("/web/static/{file}", include_in_schema=False)
    async def static(file: str) -> Response:
        asset = assets.get(file)
        if asset is None:
            raise NotServed(f"no static file {file!r}")
        return Response(asset.body, media_type=asset.media_type, headers=NO_SNIFF)

    @router.get("/metrics/summary", response_model=LiveSnapshot, tags=["operations"],
                summary="Cumulative request, latency and batching figures as JSON")
    async def live_summary(state: State) -> LiveSnapshot:
        """The figures of /metrics the page's live panel differences over its refresh interval."""
        return live_snapshot(state.metrics, time.monotonic())

    return router
