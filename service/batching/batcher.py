"""The dynamic batcher of one model: a bounded queue, an asyncio consumer, one worker thread.

Each submitted item gets an `asyncio.Future`. The consumer task picks batches with the pure
policy of `service.batching.policy`, runs the model on one of the model's runner threads
(`run_in_executor`), and resolves the futures with the rows of the output -- or with the real
exception the model call raised. Items whose future is already done (the request timed out or the
client went away) are dropped before they are computed.

With `runners` > 1, that many batches run at once, each on its own thread (ONNX Runtime sessions
take concurrent calls); the next batch is chosen only when a runner is free, so it holds what
arrived meanwhile. On a CPU, runners of one ONNX Runtime thread each spend less CPU per item than
one call spread over every core, whose threads wait for each other.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from service.batching.policy import Batch, BatchLimits, PendingItem, select_batch, wait_time
from service.batching.priority import lower_priority
from service.errors import QueueFull, ShuttingDown
from service.metrics import Metrics

log = logging.getLogger("service")

RunFn = Callable[[Sequence[Sequence[int]]], np.ndarray]


@dataclass(frozen=True)
class ItemResult:
    """One item's model output row and where its time went."""

    output: np.ndarray
    queue_s: float
    inference_s: float
    batch_size: int


@dataclass(frozen=True)
class BatchRecord:
    """What one model call contained (kept for introspection and tests)."""

    size: int
    padded_tokens: int
    real_tokens: int
    inference_s: float


@dataclass
class _Entry:
    item: PendingItem
    tokens: Sequence[int]
    future: asyncio.Future


class Batcher:
    """Queue + consumer for one model. `start()` and `close()` run on the event loop."""

    def __init__(
        self,
        name: str,
        run: RunFn,
        limits: BatchLimits,
        queue_limit: int,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
        nice: int = 0,
        runners: int = 1,
    ) -> None:
        self.name, self._run_fn, self.limits = name, run, limits
        self.queue_limit, self._metrics, self._clock = queue_limit, metrics, clock
        self._pending: dict[int, _Entry] = {}
        self._ids = itertools.count()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task | None = None
        self.runners = runners
        self._free: asyncio.Semaphore | None = None
        self._running: set[asyncio.Task] = set()
        self._executor = ThreadPoolExecutor(
            max_workers=runners, thread_name_prefix=f"model-{name}", initializer=lower_priority, initargs=(nice,)
        )
        self.records: deque[BatchRecord] = deque(maxlen=10_000)

    @property
    def depth(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._free = asyncio.Semaphore(self.runners)
        self._task = asyncio.get_running_loop().create_task(self._consume(), name=f"batcher-{self.name}")

    async def call(self, fn: Callable, *args):
        """Run `fn` on this model's worker thread (used for warm-up)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def submit(self, sequences: Sequence[Sequence[int]]) -> list[asyncio.Future]:
        """Queue token-id sequences; all or none are accepted."""
        if self._closing:
            raise ShuttingDown(f"model {self.name!r} is shutting down")
        if len(self._pending) + len(sequences) > self.queue_limit:
            raise QueueFull(
                f"model {self.name!r} has {len(self._pending)} items queued (limit "
                f"{self.queue_limit}); retry later",
                headers={"Retry-After": "1"},
            )
        loop, now = asyncio.get_running_loop(), self._clock()
        futures = []
        for tokens in sequences:
            key = next(self._ids)
            future = loop.create_future()
            self._pending[key] = _Entry(PendingItem(key, len(tokens), now), tokens, future)
            futures.append(future)
        self._metrics.queue_depth.labels(self.name).set(len(self._pending))
        self._wakeup.set()
        return futures

    async def close(self) -> None:
        """Stop accepting, run every pending item, then stop the consumer and the thread."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        if self._running:
            await asyncio.wait(set(self._running))
        self._executor.shutdown(wait=True)

    def _drop_done(self) -> None:
        done = [k for k, e in self._pending.items() if e.future.done()]
        for key in done:
            del self._pending[key]
        if done:
            self._metrics.queue_depth.labels(self.name).set(len(self._pending))

    async def _consume(self) -> None:
        while True:
            self._drop_done()
            if not self._pending:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            items = [entry.item for entry in self._pending.values()]
            delay = 0.0 if self._closing else wait_time(items, self.limits, self._clock())
            if delay > 0:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), delay)
                except TimeoutError:
                    pass
                continue
            assert self._free is not None
            if self._free.locked():  # every runner is busy: choose when one is free, with what came meanwhile
                await self._free.acquire()
                self._free.release()
                continue
            batch = select_batch(items, self.limits)
            assert batch is not None
            entries = [self._pending.pop(key) for key in batch.ids]
            self._metrics.queue_depth.labels(self.name).set(len(self._pending))
            if self.runners == 1:
                await self._run(entries)
                continue
            await self._free.acquire()
            task = asyncio.get_running_loop().create_task(self._run_released(entries))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_released(self, entries: list[_Entry]) -> None:
        assert self._free is not None
        try:
            await self._run(entries)
        finally:
            self._free.release()

    async def _run(self, entries: list[_Entry]) -> None:
        live = [e for e in entries if not e.future.done()]
        if not live:
            return
        batch = Batch(tuple(e.item for e in live))
        started = self._clock()
        for entry in live:
            self._metrics.queue_wait.labels(self.name).observe(started - entry.item.enqueued_at)
        loop = asyncio.get_running_loop()
        try:
            outputs = await loop.run_in_executor(self._executor, self._run_fn, [e.tokens for e in live])
        except BaseException as exc:  # forwarded unchanged to every waiting request
            for entry in live:
                if not entry.future.done():
                    entry.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            log.error("model %s: batch of %d failed: %s: %s", self.name, batch.size, type(exc).__name__, exc)
            return
        seconds = self._clock() - started
        self._metrics.observe_batch(self.name, batch.size, batch.padded_tokens, batch.real_tokens, seconds)
        self.records.append(BatchRecord(batch.size, batch.padded_tokens, batch.real_tokens, seconds))
        for row, entry in enumerate(live):
            if not entry.future.done():
                queued = started - entry.item.enqueued_at
                entry.future.set_result(ItemResult(outputs[row], queued, seconds, batch.size))


async def gather_results(
    futures: list[asyncio.Future], timeout: float, disconnected: asyncio.Future | None = None,
    cancel_on_timeout: bool = True,
) -> list[ItemResult] | None:
    """Wait for every item; None when the timeout passes or `disconnected` resolves first.

    On an early exit the unfinished futures are cancelled, so the batcher drops their items --
    except after a timeout with `cancel_on_timeout=False`, which leaves them queued for a later
    call. The first item exception is raised with its own type.
    """
    waiting = set(futures)
    if disconnected is not None:
        waiting.add(disconnected)
    deadline = time.monotonic() + timeout
    keep = False
    try:
        while not all(f.done() for f in futures):
            remaining = deadline - time.monotonic()
            if disconnected is not None and disconnected.done():
                return None
            if remaining <= 0:
                keep = not cancel_on_timeout
                return None
            await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            waiting = {f for f in waiting if not f.done()}
            if any(f.done() and not f.cancelled() and f.exception() for f in futures):
                break
    finally:
        if not keep:
            for future in futures:
                future.cancel()  # no-op on finished futures
    errors = [f.exception() for f in futures if not f.cancelled() and f.exception()]
    if errors:
        raise errors[0]
    return [f.result() for f in futures]
