"""`serve --workers N`: N HTTP workers on one port and one model process behind them.

The supervisor (this process) starts the model process (`service.scheduler.model_process`) and
waits until it has loaded every model folder -- a folder that cannot load ends the command with its
one-line message, before any port is opened -- then starts the HTTP workers with uvicorn's process
supervisor, which restarts a worker that dies. Each worker parses, validates and tokenizes, and
sends its items to the model process through shared memory.

Stopping (SIGTERM / SIGINT): the workers stop accepting and finish their accepted requests -- the
model process still runs them -- and only then is the model process told to stop.

If the model process dies, the workers answer every waiting request with 503 (Retry-After) at
once and turn unready; `service.scheduler.restarts` starts a new one within the budget of
`--model-process-restarts` (the workers connect to it and turn ready with it), or stops the
workers, and `serve` exits with status 3 (`--model-process-restarts 0`: at the first death, leaving
the restart to what runs the server: Kubernetes, systemd, podman `--restart`).
"""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Callable, Protocol

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from service.metrics import MULTIPROC_ENV
from service.scheduler.restarts import MODEL_PROCESS_DIED, ModelProcessKeeper
from service.scheduler.ring import remove_rings
from service.scheduler.shm import check_room
from service.scheduler.worker_end import ModelProcessClient
from service.serving.loading import LoadedModels, load_front
from service.settings import Settings, setup_logging

log = logging.getLogger("service")

WORKER_HEALTHCHECK_S = 30  # how long uvicorn waits for a worker's answer to its health check


class AppFactory(Protocol):
    """How an HTTP worker builds its app (`service.app.create_app`, handed in by `service.main`)."""

    def __call__(self, settings: Settings, models: LoadedModels, on_fatal: Callable[[str], None],
                 remote: ModelProcessClient) -> FastAPI: ...


def worker_app(settings: Settings, socket_path: str, build_app: AppFactory) -> FastAPI:
    """Run in each HTTP worker: connect to the model process and build the app around it."""
    setup_logging(settings)
    client = _connect(settings, socket_path)
    welcome = client.welcome
    runtimes = {
        name: load_front(Path(d.folder), d.variant, d.provider, d.fixed_shapes, d.checks)
        for name, d in welcome.descriptions.items()
    }
    models = LoadedModels(runtimes=runtimes, failed=dict(welcome.failed))
    return build_app(settings, models, on_fatal=log.critical, remote=client)


def _connect(settings: Settings, socket_path: str) -> ModelProcessClient:
    """The connection to the model process. When it is not there (starting again, or gone for
    good: a model failed its warm-up), the keeper reports why and this worker only stops: with
    restarts on, uvicorn starts it again (and again, until the model process is back), without
    them it stops the server at once."""
    restarts = settings.model_process_restarts > 0
    try:
        return ModelProcessClient(socket_path, settings.queue_limit, reconnect=restarts)
    except OSError as exc:  # ConnectionError included: it ended before this worker reached it
        log.info("HTTP worker %d: the model process is gone (%s); stopping", os.getpid(), exc)
        # uvicorn's supervisor stops at once on 3, and starts the worker again on 1
        raise SystemExit(1 if restarts else MODEL_PROCESS_DIED) from None


def _healthcheck_option() -> dict:
    """uvicorn kills a worker that does not answer its health check within 5 s -- also one still
    importing on cores that other work keeps busy, which it then starts again, and again; a
    worker gets 30 s here (releases of uvicorn before the check have no such option)."""
    if "timeout_worker_healthcheck" not in inspect.signature(uvicorn.Config.__init__).parameters:
        return {}
    return {"timeout_worker_healthcheck": WORKER_HEALTHCHECK_S}


def run_workers(settings: Settings, build_app: AppFactory) -> tuple[int, str]:
    """Serve with `settings.workers` HTTP workers, each with the app of `build_app`, and one model
    process, until SIGTERM / SIGINT. Returns the exit status and why: (0, ""), (1, the warm-up's
    failure, or a folder that no longer loads when the model process started again) or
    MODEL_PROCESS_DIED."""
    check_room(settings)
    folder = Path(tempfile.mkdtemp(prefix="serve-"))  # private: mode 0700
    metrics_folder = folder / "metrics"
    metrics_folder.mkdir()
    os.environ[MULTIPROC_ENV] = str(metrics_folder)
    socket_path = str(folder / "model.sock")
    ring_prefix = f"serve-{os.getpid()}-"
    keeper = ModelProcessKeeper(settings, socket_path, ring_prefix)
    try:
        keeper.start()
        config = uvicorn.Config(
            partial(worker_app, settings, socket_path, build_app), factory=True, host=settings.host, port=settings.port,
            workers=settings.workers, log_level=settings.log_level, timeout_graceful_shutdown=None,
            access_log=False, **_healthcheck_option(),
        )
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
        keeper.watch(on_end=supervisor.should_exit.set)
        log.info("starting %d HTTP workers; model process %d", settings.workers, keeper.pid)
        supervisor.run()
        keeper.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        remove_rings(ring_prefix)
    return keeper.ended or (0, "")
