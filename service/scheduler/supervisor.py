"""`serve --workers N`: N HTTP workers on one port and one model process behind them.

The supervisor (this process) starts the model process (`service.scheduler.model_process`) and
waits until it has loaded every model folder -- a folder that cannot load ends the command with its
one-line message, before any port is opened -- then starts the HTTP workers with uvicorn's process
supervisor, which restarts a worker that dies. Each worker parses, validates and tokenizes, and
sends its items to the model process through shared memory.

Stopping (SIGTERM / SIGINT): the workers stop accepting and finish their accepted requests -- the
model process still runs them -- and only then is the model process told to stop.

If the model process dies, it is not restarted: the workers turn unready and answer every waiting
request with 503 at once, the supervisor stops them, and `serve` exits with status 3. Whatever
killed it (the kernel's OOM killer, a crash in native code, a GPU fault) would most likely kill a
new one the same way, so the restart -- with back-off, and visible as a restart -- is left to what
runs the server (Kubernetes, systemd, podman `--restart`), as for any process that dies.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
from functools import partial
from multiprocessing.connection import wait
from pathlib import Path
from typing import Callable, Protocol

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from modelfolder.manifest import ModelFolderError
from service.metrics import MULTIPROC_ENV
from service.scheduler.model_process import model_process_main
from service.scheduler.ring import remove_rings
from service.scheduler.shm import check_room
from service.scheduler.worker_end import ModelProcessClient
from service.serving.loading import LoadedModels, load_front
from service.settings import Settings, setup_logging

log = logging.getLogger("service")

MODEL_PROCESS_DIED = 3  # exit status of `serve` when the model process died


class AppFactory(Protocol):
    """How an HTTP worker builds its app (`service.app.create_app`, handed in by `service.main`)."""

    def __call__(self, settings: Settings, models: LoadedModels, on_fatal: Callable[[str], None],
                 remote: ModelProcessClient) -> FastAPI: ...


def worker_app(settings: Settings, socket_path: str, build_app: AppFactory) -> FastAPI:
    """Run in each HTTP worker: connect to the model process and build the app around it."""
    setup_logging(settings)
    try:
        client = ModelProcessClient(socket_path, settings.queue_limit)
    except OSError as exc:  # ConnectionError included: it ended before this worker reached it
        # (a model failed its warm-up): the supervisor reports why; this worker only stops
        log.info("HTTP worker %d: the model process is gone (%s); stopping", os.getpid(), exc)
        raise SystemExit(MODEL_PROCESS_DIED) from None
    welcome = client.welcome
    runtimes = {
        name: load_front(Path(d.folder), d.variant, d.provider, d.fixed_shapes, d.checks)
        for name, d in welcome.descriptions.items()
    }
    models = LoadedModels(runtimes=runtimes, failed=dict(welcome.failed))
    return build_app(settings, models, on_fatal=log.critical, remote=client)


def _start_model_process(settings: Settings, socket_path: str, ring_prefix: str):
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=model_process_main, args=(settings, socket_path, ring_prefix, theirs),
                              name="model-process", daemon=False)
    process.start()
    theirs.close()
    wait([ours, process.sentinel])  # its first word, or its end
    try:
        message = ours.recv() if ours.poll() else None
    except EOFError:
        message = None
    if message is None or message[0] == "error":
        process.join(timeout=10)
        raise ModelFolderError(message[1] if message else
                               f"the model process ended while loading the models (exit code {process.exitcode})")
    _, folders, failed = message
    for name, problem in failed.items():
        log.warning("model %s skipped: %s", name, problem)
    log.info("model process %d loaded %s", process.pid, ", ".join(folders))
    return process, ours


def run_workers(settings: Settings, build_app: AppFactory) -> tuple[int, str]:
    """Serve with `settings.workers` HTTP workers, each with the app of `build_app`, and one model
    process, until SIGTERM / SIGINT. Returns the exit status and why: (0, ""), (1, the warm-up's
    failure) or MODEL_PROCESS_DIED."""
    check_room(settings)
    folder = Path(tempfile.mkdtemp(prefix="serve-"))  # private: mode 0700
    metrics_folder = folder / "metrics"
    metrics_folder.mkdir()
    os.environ[MULTIPROC_ENV] = str(metrics_folder)
    socket_path = str(folder / "model.sock")
    ring_prefix = f"serve-{os.getpid()}-"
    ended: list[tuple[int, str]] = []  # how the model process ended, when it did so by itself
    try:
        process, pipe = _start_model_process(settings, socket_path, ring_prefix)
        config = uvicorn.Config(
            partial(worker_app, settings, socket_path, build_app), factory=True, host=settings.host, port=settings.port,
            workers=settings.workers, log_level=settings.log_level, timeout_graceful_shutdown=None,
            access_log=False,
        )
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
        stopping = threading.Event()

        def watch() -> None:
            wait([process.sentinel])
            if stopping.is_set():
                return
            fatal = _last_word(pipe)
            if fatal is not None:  # it stopped itself: a model failed its warm-up
                ended.append((1, fatal))
            else:
                log.critical("the model process died (exit code %s); stopping the workers", process.exitcode)
                ended.append((MODEL_PROCESS_DIED, f"the model process died (exit code {process.exitcode}); "
                              "the server stopped"))
            supervisor.should_exit.set()

        threading.Thread(target=watch, name="model-process-watch", daemon=True).start()
        log.info("starting %d HTTP workers; model process %d", settings.workers, process.pid)
        supervisor.run()
        stopping.set()
        try:
            pipe.send(("stop",))
            process.join(timeout=60)
        except OSError:  # it died meanwhile
            pass
        if process.is_alive():
            log.error("the model process did not stop within 60 s; killing it")
            process.kill()
            process.join()
        _forget(process.pid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        remove_rings(ring_prefix)
    return ended[0] if ended else (0, "")


def _last_word(pipe) -> str | None:
    """The model process's fatal message, if it sent one before it ended."""
    try:
        if pipe.poll():
            kind, message = pipe.recv()
            return message if kind == "fatal" else None
    except (EOFError, OSError):
        pass
    return None


def _forget(pid: int | None) -> None:
    """The model process's live gauges no longer count (it may have died without saying so)."""
    if pid is not None and os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
