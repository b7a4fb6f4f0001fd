"""The `serve` command.

`main()` parses settings, loads and checks every model folder *before* the server starts (a bad
folder ends the command with a one-line message and exit status 1), then runs uvicorn with the app
of `service.app` -- or, with `--workers N`, N HTTP workers and one model process
(`service.scheduler.supervisor`; there the model process loads and checks the folders) -- which on
SIGTERM stops accepting connections and finishes the accepted requests before the lifespan ends.
"""

from __future__ import annotations

import logging
import signal
import sys

import onnxruntime as ort
import uvicorn
from pydantic import ValidationError

from modelfolder.manifest import ModelFolderError
from service.app import create_app, log_fatal
from service.model_ids import ModelIdError, import_model_ids, parse_model_ids, sentiment_model
from service.runtime.file_permissions import check_readable
from service.runtime.runners import available_cores, runner_settings, worker_count
from service.scheduler.shm import NoRoom
from service.scheduler.supervisor import run_workers
from service.serving.loading import load_models
from service.settings import Settings, settings_from_cli, setup_logging

log = logging.getLogger("service")


def _fail(message: str, status: int) -> None:
    print(f"serve: error: {message}", file=sys.stderr)
    raise SystemExit(status)


def _imported(settings: Settings) -> Settings:
    """Import the --model-id checkpoints into the repository; with --models, they are loaded too."""
    try:
        model_ids = parse_model_ids(settings.model_id or [])
    except ModelIdError as exc:
        _fail(str(exc), 2)
    try:
        import_model_ids(model_ids, settings.model_repository)
    except ModelIdError as exc:
        _fail(str(exc), 1)
    update = {}
    if settings.models is not None and model_ids:
        update["models"] = list(dict.fromkeys([*settings.models, *(m.name for m in model_ids)]))
    sentiment = sentiment_model(model_ids, settings.model_repository)
    if sentiment and not (settings.model_repository / settings.sentiment_model).is_dir():
        log.info("/v1/sentiment answers with %s (its labels read as negative and positive)", sentiment)
        update["sentiment_model"] = sentiment
    return settings.model_copy(update=update) if update else settings


def _note_signal(signum: int, _frame) -> None:
    """Installed before uvicorn so that, once its graceful shutdown re-raises the signal, the
    process ends with status 0 instead of dying by the signal."""
    log.info("received %s; shut down gracefully", signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> None:
    try:
        settings = settings_from_cli(argv)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors()), 2)
    setup_logging(settings)
    settings = _imported(settings)
    cores = available_cores()
    settings = worker_count(settings, cores)
    try:
        check_readable(settings.model_repository, settings.models)
        if settings.workers > 1:  # the model process loads the models; the workers only tokenizers
            status, message = run_workers(settings, create_app)
            if status:
                _fail(message, status)
            return
        settings = runner_settings(settings, cores, ort.get_available_providers())
        models = load_models(settings)
    except ModelFolderError as exc:
        _fail(f"cannot load models: {exc}", 1)
    except NoRoom as exc:
        _fail(str(exc), 1)
    for name, problem in models.failed.items():
        log.warning("model %s skipped: %s", name, problem)
    fatal: list[str] = []
    server: uvicorn.Server | None = None

    def stop(message: str) -> None:
        log_fatal(message)
        fatal.append(message)
        if server is not None:
            server.should_exit = True

    app = create_app(settings, models, on_fatal=stop)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=settings.log_level,
        timeout_graceful_shutdown=None, access_log=False,
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _note_signal)
    server = uvicorn.Server(config)
    server.run()
    if fatal:
        _fail(fatal[0], 1)


if __name__ == "__main__":
    main()
