"""Several worker processes on one port (`serve --workers N`).

The parent binds the listening socket and starts N workers with uvicorn's process supervisor
(which restarts a worker that dies and stops them all on SIGTERM / SIGINT). Each worker loads the
models itself -- its own ONNX Runtime sessions, batchers, tokenizers and event loop -- and the kernel
hands each new connection to one of them. ONNX Runtime's threads are split between the workers
(`worker_threads`), and the Prometheus metrics of all workers are gathered through a shared folder
(`service.metrics`), so `/metrics` reads the same from whichever worker answers.

When to use it: a single worker tops out where its one event loop (HTTP, validation, tokenization)
is busy, which comes first with a cheap model or a GPU; several workers share the cores. Each worker
batches only its own requests, so batches are smaller than one worker's at the same load.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
from functools import partial

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from service.settings import Settings

log = logging.getLogger("service")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when a worker imports it


def worker_threads(settings: Settings, cores: int | None) -> int:
    """ONNX Runtime intra-op threads per worker: the setting, or with 0 (its default) the cores
    shared out between the workers (at least one each) -- several workers each taking every core
    would only make their threads fight."""
    if settings.intra_op_threads or settings.workers == 1:
        return settings.intra_op_threads
    return max(1, (cores or 1) // settings.workers)


def _stop_everything(message: str) -> None:
    """A worker could not start (a model failed its warm-up): stop the whole server."""
    log.critical("%s; stopping every worker", message)
    os.kill(os.getppid(), signal.SIGTERM)


def worker_app(settings: Settings) -> FastAPI:
    """Run in each worker process: load the models and build the app."""
    from service.app import create_app, setup_logging
    from service.runtime.state import load_models

    setup_logging(settings)
    models = load_models(settings)
    return create_app(settings, models, on_fatal=_stop_everything)


def run_workers(settings: Settings) -> None:
    """Serve with `settings.workers` processes until SIGTERM / SIGINT."""
    threads = worker_threads(settings, os.cpu_count())
    settings = settings.model_copy(update={"intra_op_threads": threads})
    folder = tempfile.mkdtemp(prefix="serve-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    config = uvicorn.Config(
        partial(worker_app, settings), factory=True, host=settings.host, port=settings.port,
        workers=settings.workers, log_level=settings.log_level, timeout_graceful_shutdown=None,
        access_log=False,
    )
    log.info("starting %d workers, %d ONNX Runtime threads each", settings.workers, threads)
    try:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
