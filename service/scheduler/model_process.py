"""The model process: the one process per device that owns the ONNX Runtime sessions and the
batchers, fed by every HTTP worker through shared memory (`service.scheduler.connection`).

It loads and warms up the models as a one-process server does (`ServiceState`: the same batchers,
limits, queue limit, metrics), accepts the workers on a Unix socket, and for each connection turns
submit frames into batcher items and finished items into result frames. So the batch policy runs
over the items of all workers together, and the queue limit counts the whole model queue.

It ignores SIGINT and SIGTERM: the supervisor (`service.scheduler.supervisor`) stops the HTTP
workers first, which finish their accepted requests through this process, and then tells it to
stop; it also stops when the supervisor's pipe closes (the supervisor died). When it dies, the
supervisor may start another (`service.scheduler.restarts`), which takes over its socket's path.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import socket
from multiprocessing.connection import Connection

import onnxruntime as ort

from modelfolder.manifest import ModelFolderError
from service.metrics import MULTIPROC_ENV, Metrics
from service.runtime.runners import available_cores, runner_settings
from service.scheduler.model_end import WorkerPort
from service.scheduler.protocol import ModelDescription, Readiness
from service.serving.loading import LoadedModels, load_models
from service.serving.state import ServiceState, WarmUpError
from service.settings import Settings, setup_logging

log = logging.getLogger("service")


def describe(state: ServiceState) -> dict[str, ModelDescription]:
    return {
        name: ModelDescription(folder=str(r.folder), variant=r.variant, provider=r.provider,
                               fixed_shapes=r.fixed_shapes, limits=state.batchers[name].limits,
                               checks=dict(r.checks))
        for name, r in state.models.runtimes.items()
    }


def model_process_main(settings: Settings, socket_path: str, ring_prefix: str, parent: Connection,
                       restart_reason: str | None = None) -> None:
    """Entry point of the model process (started by the supervisor with the spawn method);
    `restart_reason`: how the one before it died, when it is started again."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    setup_logging(settings)
    # the workers read its metrics through the shared folder, when there is one (not in tests)
    metrics = Metrics(multiprocess=bool(os.environ.get(MULTIPROC_ENV)))
    if restart_reason is not None:
        metrics.model_process_restarts.labels(restart_reason).inc()
    try:
        settings = runner_settings(settings, available_cores(), ort.get_available_providers())
        models = load_models(settings)
    except ModelFolderError as exc:
        parent.send(("error", str(exc)))
        raise SystemExit(1) from None
    code = asyncio.run(_serve(settings, metrics, models, socket_path, ring_prefix, parent))
    raise SystemExit(code)


async def _serve(settings: Settings, metrics: Metrics, models: LoadedModels, socket_path: str, ring_prefix: str,
                 parent: Connection) -> int:
    loop = asyncio.get_running_loop()
    state = ServiceState(settings=settings, metrics=metrics, models=models)
    state.start()
    if os.path.exists(socket_path):  # the socket of a model process that died
        os.unlink(socket_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    listener.setblocking(False)
    ports: set[WorkerPort] = set()
    connections = itertools.count()
    stop = asyncio.Event()

    def accept() -> None:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(True)
        port = WorkerPort(sock, state, describe(state), f"{ring_prefix}{next(connections)}", on_closed=ports.discard)
        ports.add(port)
        port.start(loop)

    def from_parent() -> None:
        try:
            parent.recv()  # ("stop",) is the only message
        except (EOFError, OSError):
            log.warning("model process: the supervisor is gone; stopping")
        loop.remove_reader(parent.fileno())
        stop.set()

    loop.add_reader(listener.fileno(), accept)
    loop.add_reader(parent.fileno(), from_parent)
    parent.send(("loaded", {n: m.folder for n, m in describe(state).items()}, dict(models.failed)))
    try:
        warm_up = loop.create_task(state.warm_up())
        waiting = {warm_up, loop.create_task(stop.wait())}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if warm_up.done():
            try:
                warm_up.result()
            except WarmUpError as exc:
                parent.send(("fatal", f"start-up stopped: {exc}"))
                return 1
            news = Readiness(ready=True, failed=dict(state.models.failed))
            for port in list(ports):
                port.link.send_control(news)
            log.info("model process %d: ready; serving %s", os.getpid(), ", ".join(state.models.runtimes))
        await stop.wait()
        if not warm_up.done():
            warm_up.cancel()
    finally:
        loop.remove_reader(listener.fileno())
        listener.close()
        await state.stop()  # runs what is still queued
        for port in list(ports):
            port.close()
        state.metrics.close_worker(os.getpid())
    return 0

