"""A run over several processes: the plan, how many processes and on which CPUs, a common start,
and the processes' tallies merged into one result."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import queue
import time
from dataclasses import dataclass
from typing import Callable, Sequence, Union

from bench.loadgen import loops
from bench.loadgen.result import LoadResult, Tally, build_result
from bench.loadgen.wire import Target, request_bytes

Request = Union[bytes, tuple[str, bytes]]  # a JSON body for the URL's path, or (path, body)
OPEN_RATE_PER_PROCESS = 2000.0  # requests/s one open-loop process is given by default
READY_TIMEOUT_S = 120.0  # for the processes to start (spawn imports the main module again)
START_DELAY_S = 0.05  # between the last process ready and the common start


@dataclass(frozen=True)
class Plan:
    """One run. Closed loop when `rate` is None, open loop otherwise."""
    url: str  # http://HOST:PORT/PATH
    requests: tuple[Request, ...]  # taken in turn (each closed-loop connection from its own offset)
    seconds: float = 10.0  # measured: closed loop, the window whose answers count; open loop, sending time
    concurrency: int = 16  # closed loop: connections
    rate: float | None = None  # open loop: requests per second
    settle_s: float = 0.0  # closed loop: load before the measured window
    processes: int | None = None  # None: one per CPU of `cpus`, else half the CPUs, at most one per connection
    cpus: tuple[int, ...] | None = None  # pin the processes to these CPUs (os.sched_setaffinity)
    timeout_s: float = 60.0  # per connect and per answer
    keepalive: bool = True  # open loop: False opens a connection per request (a refused connect is then plain)
    keep_outcomes: bool | None = None  # keep every request's Outcome (None: in the open loop only)
    max_connections: int = 2000  # open loop: per process; more requests in flight wait for one

    @property
    def mode(self) -> str:
        return "closed" if self.rate is None else "open"


def check(plan: Plan) -> None:
    if not plan.requests:
        raise ValueError("no requests to send")
    if plan.seconds <= 0 or plan.concurrency < 1 or plan.timeout_s <= 0 or plan.settle_s < 0:
        raise ValueError("seconds and timeout_s must be > 0, concurrency >= 1, settle_s >= 0")
    if plan.rate is not None and plan.rate <= 0:
        raise ValueError("rate must be > 0")
    if plan.cpus is not None:
        allowed = os.sched_getaffinity(0)
        if not plan.cpus or not set(plan.cpus) <= allowed:
            raise ValueError(f"cpus {sorted(plan.cpus)} not within this process's CPUs {sorted(allowed)}")
    Target.parse(plan.url)


def process_count(plan: Plan) -> int:
    if plan.processes:
        wanted = plan.processes
    elif plan.cpus:
        wanted = len(plan.cpus)
    else:
        wanted = max(1, len(os.sched_getaffinity(0)) // 2)  # the other half for the server
    if plan.rate is None:
        return max(1, min(wanted, plan.concurrency))
    return max(1, wanted if plan.processes else min(wanted, math.ceil(plan.rate / OPEN_RATE_PER_PROCESS)))


def run_async(coroutine) -> None:
    """Run on uvloop where it is installed (it costs less CPU per request), asyncio's loop otherwise."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coroutine)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coroutine)


def _payloads(plan: Plan, target: Target) -> list[bytes]:
    keepalive = plan.keepalive or plan.rate is None
    return [request_bytes(target, *(r if isinstance(r, tuple) else (None, r)), keepalive=keepalive)
            for r in plan.requests]


def _worker(plan: Plan, index: int, processes: int, out, go, start_at) -> None:
    try:
        if plan.cpus:
            os.sched_setaffinity(0, plan.cpus)
        target = Target.parse(plan.url)
        tally = Tally(cpus=sorted(os.sched_getaffinity(0)))
        out.put(("ready", index, None))
        if not go.wait(READY_TIMEOUT_S):
            return
        keep = plan.keep_outcomes if plan.keep_outcomes is not None else plan.rate is not None
        share = loops.Share(target, _payloads(plan, target), start_at.value, plan.seconds, plan.timeout_s, keep)
        cpu = time.process_time()
        if plan.rate is None:
            mine = list(range(index, plan.concurrency, processes))
            run_async(loops.closed_loop(share, mine, plan.concurrency, plan.settle_s, tally))
        else:
            run_async(loops.open_loop(share, plan.rate, index, processes, plan.keepalive, plan.max_connections,
                                      tally))
        tally.cpu_s = time.process_time() - cpu
        out.put(("done", index, tally))
    except Exception as exc:  # reported to the parent, which raises it
        out.put(("failed", index, f"{type(exc).__name__}: {exc}"))


def _collect(out, workers: list, kind: str, timeout_s: float,
             tick: Callable[[], None] | None = None) -> dict[int, object]:
    """The `kind` message of every worker; a worker's failure or death raises RuntimeError."""
    got: dict[int, object] = {}
    deadline = time.monotonic() + timeout_s
    while len(got) < len(workers):
        if tick is not None:
            tick()
        try:
            message, index, value = out.get(timeout=0.2)
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"load generator processes: exit codes {dead}" if dead else
                                   f"load generator: no '{kind}' from every process within {timeout_s:g} s")
            continue
        if message == "failed":
            raise RuntimeError(f"load generator process {index}: {value}")
        if message == kind:
            got[index] = value
    return got


def run(plan: Plan, on_tick: Callable[[float], None] | None = None, tick_s: float = 30.0) -> LoadResult:
    """Run `plan` on its processes; `on_tick(t)` is called in this process at t = 0, tick_s, ...
    seconds after the start while the requests go out."""
    check(plan)
    processes = process_count(plan)
    context = multiprocessing.get_context("spawn")  # no copy of the caller's threads, sessions or memory
    out, go, start_at = context.Queue(), context.Event(), context.Value("d", 0.0)
    workers = [context.Process(target=_worker, args=(plan, i, processes, out, go, start_at), daemon=True)
               for i in range(processes)]
    for worker in workers:
        worker.start()
    try:
        _collect(out, workers, "ready", READY_TIMEOUT_S)
        start = start_at.value = time.monotonic() + START_DELAY_S
        go.set()
        ticks = [0.0]

        def tick() -> None:
            elapsed = time.monotonic() - start
            if on_tick is not None and ticks[0] <= elapsed and ticks[0] < plan.seconds:
                on_tick(ticks[0])
                ticks[0] += tick_s

        tallies = _collect(out, workers, "done", plan.settle_s + plan.seconds + 2 * plan.timeout_s + 60, tick)
    except BaseException:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        raise
    finally:
        for worker in workers:
            worker.join()
    merged = Tally()
    for index in sorted(tallies):
        merged.merge(tallies[index])
    return build_result(plan.mode, merged, plan.seconds, processes, plan.cpus is not None, plan.concurrency,
                        plan.rate, start)


def closed_loop(url: str, requests: Sequence[Request], concurrency: int, seconds: float, **options) -> LoadResult:
    """`concurrency` connections for `seconds` (options: the other fields of `Plan`)."""
    return run(Plan(url, tuple(requests), seconds=seconds, concurrency=concurrency, **options))


def open_loop(url: str, requests: Sequence[Request], rate: float, seconds: float,
              on_tick: Callable[[float], None] | None = None, tick_s: float = 30.0, **options) -> LoadResult:
    """`rate` requests per second for `seconds`, every outcome kept (options: fields of `Plan`)."""
    return run(Plan(url, tuple(requests), seconds=seconds, rate=rate, **options), on_tick, tick_s)
