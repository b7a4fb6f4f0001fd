"""The model process of `serve --workers N`: started, watched, and started again when it dies.

`ModelProcessKeeper` starts the model process (`service.scheduler.model_process`) and waits until
it has loaded every folder; its watch thread then waits for the process to end. When it dies by
itself (killed, crashed, out of memory) -- not when it is told to stop, nor when it stops itself
because a model failed its warm-up -- the keeper logs how (the signal's name or the exit code),
removes its rings and, within the budget (`--model-process-restarts` deaths in
`--model-process-restart-window-s`), starts a new one, which loads, checks and warms up the models
as at start and counts itself in `serve_model_process_restarts_total{reason}`. The HTTP workers
have answered the waiting requests with 503 and turned unready meanwhile; they connect to the new
one and turn ready with it (`service.scheduler.worker_end`). One death past the budget, or any
with a budget of 0, stops the server with status 3; a folder that no longer loads, with status 1.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Callable

from modelfolder.manifest import ModelFolderError
from service.metrics import MULTIPROC_ENV
from service.scheduler.model_process import model_process_main
from service.scheduler.ring import remove_rings
from service.settings import Settings

log = logging.getLogger("service")

MODEL_PROCESS_DIED = 3  # exit status of `serve` when the model process died (past the budget)


class RestartBudget:
    """At most `limit` restarts within any `window_s` seconds."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._times: deque[float] = deque()

    def allow(self, now: float) -> bool:
        """Take one restart at time `now` if the budget has room."""
        while self._times and now - self._times[0] >= self.window_s:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


def exit_reason(exitcode: int | None) -> tuple[str, str]:
    """How a process ended: (the restart counter's label, words for the log)."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal_{-exitcode}"
        return name, f"killed by {name}"
    return f"exit_{exitcode}", f"exit code {exitcode}"


def spawn_model_process(settings: Settings, socket_path: str, ring_prefix: str,
                        restart_reason: str | None = None) -> tuple[multiprocessing.Process, Connection]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=model_process_main,
                              args=(settings, socket_path, ring_prefix, theirs, restart_reason),
                              name="model-process", daemon=False)
    process.start()
    theirs.close()
    return process, ours


def await_loaded(process: multiprocessing.Process, pipe: Connection) -> bool:
    """Wait for the model process's first word: True when it loaded the models, False when it
    ended without a word (killed); ModelFolderError with the message of a folder that failed."""
    wait([pipe, process.sentinel])
    try:
        message = pipe.recv() if pipe.poll() else None
    except (EOFError, OSError):
        message = None
    if message is None:
        process.join(timeout=10)
        return False
    if message[0] == "error":
        process.join(timeout=10)
        raise ModelFolderError(message[1])
    _, folders, failed = message
    for name, problem in failed.items():
        log.warning("model %s skipped: %s", name, problem)
    log.info("model process %d loaded %s", process.pid, ", ".join(folders))
    return True


def start_model_process(settings: Settings, socket_path: str,
                        ring_prefix: str) -> tuple[multiprocessing.Process, Connection]:
    """A model process that has loaded the models (ModelFolderError when it could not)."""
    process, pipe = spawn_model_process(settings, socket_path, ring_prefix)
    if not await_loaded(process, pipe):
        raise ModelFolderError(f"the model process ended while loading the models (exit code {process.exitcode})")
    return process, pipe


class ModelProcessKeeper:
    """The current model process, and the watch that starts a new one when it dies."""

    def __init__(self, settings: Settings, socket_path: str, ring_prefix: str) -> None:
        self._settings, self._socket_path, self._ring_prefix = settings, socket_path, ring_prefix
        self._generations = itertools.count()  # each model process's rings have a prefix of their own
        self._budget = RestartBudget(settings.model_process_restarts, settings.model_process_restart_window_s)
        self._lock = threading.Lock()
        self._stopping = False
        self._current: tuple[multiprocessing.Process, Connection, str] | None = None
        self.ended: tuple[int, str] | None = None  # (status, why) when the server must stop

    @property
    def pid(self) -> int | None:
        return self._current[0].pid if self._current else None

    def _spawn(self, restart_reason: str | None) -> tuple[multiprocessing.Process, Connection]:
        prefix = f"{self._ring_prefix}{next(self._generations)}-"
        process, pipe = spawn_model_process(self._settings, self._socket_path, prefix, restart_reason)
        self._current = (process, pipe, prefix)
        return process, pipe

    def start(self) -> None:
        """The first model process, loaded (ModelFolderError when it could not)."""
        process, pipe = self._spawn(None)
        if not await_loaded(process, pipe):
            raise ModelFolderError(f"the model process ended while loading the models (exit code {process.exitcode})")

    def watch(self, on_end: Callable[[], None]) -> None:
        """Watch in a thread; `on_end()` when the server must stop (`ended` says why)."""
        threading.Thread(target=self._watch, args=(on_end,), name="model-process-watch", daemon=True).start()

    def _watch(self, on_end: Callable[[], None]) -> None:
        self.ended = self._watch_until_end()
        if self.ended is not None:
            on_end()

    def _watch_until_end(self) -> tuple[int, str] | None:
        while True:
            assert self._current is not None
            process, pipe, prefix = self._current
            wait([process.sentinel])
            process.join(timeout=10)  # reaped: its exit code is known
            if self._stopping:
                return None
            fatal = _last_word(pipe)
            if fatal is not None:  # it stopped itself: a model failed its warm-up
                return 1, fatal
            reason, how = exit_reason(process.exitcode)
            forget(process.pid)
            remove_rings(prefix)
            settings = self._settings
            if not self._budget.allow(time.monotonic()):
                limit = (f"{settings.model_process_restarts} restarts within "
                         f"{settings.model_process_restart_window_s:g} s already" if settings.model_process_restarts
                         else "restarts are off (--model-process-restarts 0)")
                log.critical("the model process %d died (%s); %s; stopping the workers", process.pid, how, limit)
                return MODEL_PROCESS_DIED, f"the model process died ({how}); {limit}; the server stopped"
            log.critical("the model process %d died (%s); starting a new one", process.pid, how)
            with self._lock:
                if self._stopping:
                    return None
                process, pipe = self._spawn(reason)
            try:
                await_loaded(process, pipe)  # False: it died as well; the loop sees it at once
            except ModelFolderError as exc:
                return (None if self._stopping else
                        (1, f"the model process was started again and could not load the models: {exc}"))

    def stop(self) -> None:
        """Tell the current model process to stop (after the workers stopped) and wait for it."""
        with self._lock:
            self._stopping = True
        if self._current is None:
            return
        process, pipe, _prefix = self._current
        try:
            pipe.send(("stop",))
            process.join(timeout=60)
        except OSError:  # it died meanwhile
            pass
        if process.is_alive():
            log.error("the model process did not stop within 60 s; killing it")
            process.kill()
            process.join()
        forget(process.pid)


def _last_word(pipe: Connection) -> str | None:
    """The model process's fatal message, if it sent one before it ended."""
    try:
        while pipe.poll():
            kind, *rest = pipe.recv()
            if kind == "fatal":
                return rest[0]
    except (EOFError, OSError):
        pass
    return None


def forget(pid: int | None) -> None:
    """The model process's live gauges no longer count (it may have died without saying so)."""
    if pid is not None and os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
