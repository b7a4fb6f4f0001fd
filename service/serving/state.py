"""The running service: loaded models, their batchers, readiness; warm-up.

In an HTTP worker of `serve --workers N` the models run in the model process: the state then holds
the worker's connection to it (`ModelProcess`, built in `service.scheduler.worker_end`), whose
stand-in batchers take the place of the batchers here and whose news says when it is ready.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol

from service.batching.batcher import Batcher
from service.batching.limits import batch_limits
from service.batching.priority import lower_priority, task_nice
from service.batching.shapes import all_shapes
from service.errors import InvalidInput, ModelNotFound, NotReady
from service.metrics import Metrics
from service.runtime.model import ModelRuntime, probe_tokens
from service.serving.loading import LoadedModels
from service.settings import Settings

log = logging.getLogger("service")


class WarmUpError(Exception):
    """A model failed its warm-up and bad models are not skipped: start-up must stop."""


class _ShapeFailed(Exception):
    """One warm-up batch failed; the message names its shape and the model's error."""


class ModelProcess(Protocol):
    """An HTTP worker's connection to the model process, as the state uses it."""

    batchers: Mapping[str, Batcher]  # stand-ins with the part of Batcher the routes use
    ready: bool  # the model process has warmed up its models
    failed: dict[str, str]  # the models it dropped (name -> problem)
    on_ready: Callable[[dict[str, str]], None]  # called when it turns ready (again), with `failed`
    on_gone: Callable[[], None]  # called when the connection ends (a new one may follow)

    def start(self, loop: asyncio.AbstractEventLoop) -> None: ...

    def close(self) -> None: ...


def warmup_shapes(max_seq_len: int, max_items: int, fixed_shapes: bool = False) -> list[tuple[int, int]]:
    """(batch size, length) pairs to run before ready: every shape a batch is padded to with
    `fixed_shapes` (CUDA), else short, medium and longest inputs."""
    if fixed_shapes:
        return all_shapes(max_seq_len, max_items)
    lengths = sorted({min(8, max_seq_len), max(2, max_seq_len // 2), max_seq_len})
    sizes = sorted({1, min(8, max_items)})
    return [(size, length) for length in lengths for size in sizes]


@dataclass
class ServiceState:
    settings: Settings
    metrics: Metrics
    models: LoadedModels
    batchers: dict[str, Batcher] = field(default_factory=dict)
    ready: bool = False
    warmed: dict[str, str] = field(default_factory=dict)  # model -> "warming" | "ready" | error
    preprocessing: ThreadPoolExecutor | None = None  # tokenizes long inputs off the event loop
    remote: ModelProcess | None = None  # the models run in the model process (HTTP worker)

    def start(self) -> None:
        self.preprocessing = ThreadPoolExecutor(
            self.settings.preprocessing_threads, thread_name_prefix="preprocessing",
            initializer=lower_priority,
            initargs=(self.settings.low_priority_nice if self.settings.low_priority_tasks else 0,),
        )
        if self.remote is not None:
            self.batchers.update(self.remote.batchers)
            for name, runtime in self.models.runtimes.items():
                self.warmed[name] = "warming"
                self.metrics.model_info.labels(name, runtime.task, runtime.variant, runtime.provider).set(1)
            return
        for name, runtime in self.models.runtimes.items():
            limits = batch_limits(self.settings, runtime.provider)
            batcher = Batcher(name, runtime.run, limits, self.settings.queue_limit, self.metrics,
                              nice=task_nice(self.settings, runtime.task), runners=self.settings.model_runners or 1)
            batcher.start()
            self.batchers[name] = batcher
            self.warmed[name] = "warming"
            self.metrics.model_info.labels(name, runtime.task, runtime.variant, runtime.provider).set(1)
            self.metrics.queue_depth.labels(name).set(0)

    async def warm_up(self) -> None:
        """A few batches of several lengths per model on its own worker thread, then ready.

        A model that fails raises WarmUpError, or with skip_bad_models is moved to
        `models.failed` (its batcher closed) while the others go on. In an HTTP worker, the model
        process does the warm-up; this waits until it says it is ready."""
        if self.remote is not None:
            await self._await_model_process(self.remote)
            return
        for name, runtime in list(self.models.runtimes.items()):
            try:
                await self._warm_up_one(runtime)
            except _ShapeFailed as exc:
                message = f"{runtime.folder}: warm-up failed on {exc}"
                self.warmed[name] = f"failed: {message}"
                if not self.settings.skip_bad_models:
                    raise WarmUpError(message) from exc
                log.error("skipping model %s: %s", name, message)
                await self._drop(name, message)
                continue
            self.warmed[name] = "ready"
            log.info("warmed up %s", name)
        if not self.models.runtimes:
            raise WarmUpError("no model passed its warm-up")
        self.ready = True
        self.metrics.ready.set(1)

    async def _await_model_process(self, remote: ModelProcess) -> None:
        news: asyncio.Future = asyncio.get_running_loop().create_future()  # the dropped models
        if remote.ready:
            news.set_result(dict(remote.failed))
        remote.on_ready = lambda failed: self._model_process_ready(news, failed)
        remote.on_gone = self._model_process_gone
        remote.start(asyncio.get_running_loop())
        failed = await news  # should it stop for good instead, the supervisor stops this worker
        for name, message in failed.items():
            if name in self.models.runtimes:
                await self._drop(name, message)
            else:
                self.models.failed[name] = message
        self._serving_again()

    def _model_process_ready(self, news: asyncio.Future, failed: dict[str, str]) -> None:
        if not news.done():
            news.set_result(failed)  # the first time: the warm-up above goes on
        elif not self.ready:
            self._serving_again()  # started again (with the same models: the connection checked)

    def _serving_again(self) -> None:
        for name in self.models.runtimes:
            self.warmed[name] = "ready"
        self.ready = True
        self.metrics.ready.set(1)

    def _model_process_gone(self) -> None:
        """Readiness turns false at once; the waiting items have failed with 503 already."""
        self.ready = False
        self.metrics.ready.set(0)
        for name in self.warmed:
            self.warmed[name] = "waiting: the model process stopped"

    async def _warm_up_one(self, runtime: ModelRuntime) -> None:
        limits = self.batchers[runtime.name].limits
        for size, length in warmup_shapes(runtime.max_seq_len, limits.max_items, runtime.fixed_shapes):
            batch = probe_tokens(runtime, length, size)
            for _ in range(self.settings.warmup_batches):
                try:
                    await self.batchers[runtime.name].call(runtime.run, batch)
                except Exception as exc:  # any failure of the graph, reported with its real type
                    raise _ShapeFailed(f"a batch of {size} x {length} tokens: {type(exc).__name__}: {exc}") from exc

    async def _drop(self, name: str, message: str) -> None:
        runtime = self.models.runtimes.pop(name)
        self.models.failed[name] = message
        del self.warmed[name]
        await self.batchers.pop(name).close()
        self.metrics.model_info.remove(name, runtime.task, runtime.variant, runtime.provider)

    async def stop(self) -> None:
        self.ready = False
        self.metrics.ready.set(0)
        for batcher in self.batchers.values():
            await batcher.close()
        if self.remote is not None:
            self.remote.close()
        if self.preprocessing is not None:
            self.preprocessing.shutdown(wait=True)

    def loaded(self, name: str, field: str | None = None) -> ModelRuntime:
        """A loaded model (ready or not); 404 for a name not loaded."""
        runtime = self.models.runtimes.get(name)
        if runtime is None:
            known = ", ".join(sorted(self.models.runtimes)) or "none"
            raise ModelNotFound(f"unknown model {name!r} (loaded: {known})", field=field)
        return runtime

    def lookup(self, name: str, field: str = "model") -> tuple[ModelRuntime, Batcher]:
        """A model to run and its batcher: 503 before ready, 404 for a name not loaded."""
        if not self.ready:
            raise NotReady("models are not ready: loading, warming up, or the model process is starting again",
                           headers={"Retry-After": "1"})
        return self.loaded(name, field), self.batchers[name]

    def runtime(self, name: str, task: str | tuple[str, ...]) -> tuple[ModelRuntime, Batcher]:
        """The model `name` and its batcher, refused unless it is a model of `task` (or one of them)."""
        tasks = (task,) if isinstance(task, str) else task
        runtime, batcher = self.lookup(name)
        if runtime.task not in tasks:
            raise InvalidInput(f"model {name!r} is a {runtime.task} model, not {' or '.join(tasks)}", field="model")
        return runtime, batcher

    def default_model(self, task: str | tuple[str, ...]) -> str:
        tasks = (task,) if isinstance(task, str) else task
        names = [n for n, r in self.models.runtimes.items() if r.task in tasks]
        if len(names) == 1:
            return names[0]
        if not names:
            raise ModelNotFound(f"no {' or '.join(tasks)} model is loaded", field="model")
        raise InvalidInput(
            f"model: required when {len(names)} {' or '.join(tasks)} models are loaded ({', '.join(sorted(names))})",
            field="model",
        )
