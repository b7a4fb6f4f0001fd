"""One process's share of a run, on one event loop: closed loop (connections that each send their
next request when the previous answer came) or open loop (requests due at fixed times)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from bench.loadgen.result import Outcome, Tally
from bench.loadgen.wire import Connection, Target, Watchdog, connect, exchange

RECONNECT_PAUSE_S = 0.01  # a closed-loop connection that could not connect waits this long to retry


@dataclass(frozen=True)
class Share:
    """What one process does, given the run's start (time.monotonic(), the same clock in every
    process of the host)."""
    target: Target
    payloads: list[bytes]  # the prepared requests, taken in turn
    start: float
    seconds: float
    timeout_s: float
    keep_outcomes: bool


async def closed_loop(share: Share, connections: list[int], concurrency: int, settle_s: float,
                      tally: Tally) -> None:
    """Connections `connections` (of `concurrency` in the run) until `settle_s + seconds` after
    the start; the answers that end in the last `seconds` count."""
    async with _watching(share) as watchdog:
        await asyncio.gather(*(_connection(share, g * len(share.payloads) // concurrency, settle_s, tally, watchdog)
                               for g in connections))


@contextlib.asynccontextmanager
async def _watching(share: Share):
    """A Watchdog for the answers of this process, checking while the loop runs."""
    watchdog = Watchdog(share.timeout_s)
    task = asyncio.ensure_future(watchdog.run())
    try:
        yield watchdog
    finally:
        task.cancel()


async def _connection(share: Share, offset: int, settle_s: float, tally: Tally, watchdog: Watchdog) -> None:
    clock, payloads = time.monotonic, share.payloads
    first, last = share.start + settle_s, share.start + settle_s + share.seconds
    index, connection = offset, None
    await asyncio.sleep(max(0.0, share.start - clock()))
    try:
        while clock() < last:
            started = clock()
            if connection is None:  # (re)connect, outside the timed request
                connection, error = await connect(share.target, share.timeout_s)
                if connection is None:
                    _record(share, tally, clock(), started, None, error, first, last, -1)
                    await asyncio.sleep(RECONNECT_PAUSE_S)
                    continue
                started = clock()
            number = index % len(payloads)
            index += 1
            connection, answer, error = await exchange(connection, payloads[number], watchdog)
            _record(share, tally, clock(), started, answer, error, first, last, number)
    finally:
        if connection is not None:
            connection.close()


def _record(share: Share, tally: Tally, finished: float, started: float, answer, error: str | None,
            first: float, last: float, number: int) -> None:
    tally.handled += 1
    if first <= finished <= last:
        status, retry = (answer.status, answer.retry_after) if answer is not None else (None, None)
        tally.count(status, error, finished - started, retry)
        if share.keep_outcomes:
            tally.outcomes.append(Outcome(started - share.start, finished - started, status, error, retry, number))


class _Pool:
    """Idle kept-alive connections of the open loop, and a cap on open ones."""

    def __init__(self, share: Share, keepalive: bool, max_connections: int, watchdog: Watchdog) -> None:
        self.share, self.keepalive, self.watchdog = share, keepalive, watchdog
        self.idle: list[Connection] = []
        self.slots = asyncio.Semaphore(max_connections)

    async def send(self, payload: bytes):
        async with self.slots:
            connection = None
            while self.idle and connection is None:
                connection = self.idle.pop()
                if not connection.usable():
                    connection.close()
                    connection = None
            if connection is None:
                connection, error = await connect(self.share.target, self.share.timeout_s)
                if connection is None:
                    return None, error
            connection, answer, error = await exchange(connection, payload, self.watchdog)
            if connection is not None:
                if self.keepalive:
                    self.idle.append(connection)
                else:
                    connection.close()
            return answer, error

    def close(self) -> None:
        for connection in self.idle:
            connection.close()


async def open_loop(share: Share, rate: float, index: int, step: int, keepalive: bool, max_connections: int,
                    tally: Tally) -> None:
    """Requests index, index + step, ... each due at its number / `rate` seconds after the start,
    sent then whatever came back before; then wait for every answer. Latency runs from the time
    a request was due, so a generator that falls behind does not hide the wait."""
    in_flight = 0

    async def one(number: int, due: float) -> None:
        nonlocal in_flight
        began = min(time.monotonic(), share.start + due)  # (a timer may wake a little early)
        in_flight += 1
        tally.in_flight_peak = max(tally.in_flight_peak, in_flight)
        answer, error = await pool.send(share.payloads[number % len(share.payloads)])
        in_flight -= 1
        latency = time.monotonic() - began
        status, retry = (answer.status, answer.retry_after) if answer is not None else (None, None)
        tally.handled += 1
        tally.count(status, error, latency, retry)
        if share.keep_outcomes:
            tally.outcomes.append(Outcome(due, latency, status, error, retry, number % len(share.payloads)))

    async with _watching(share) as watchdog:
        pool = _Pool(share, keepalive, max_connections, watchdog)
        tasks = []
        number = index
        while (due := number / rate) < share.seconds:
            await asyncio.sleep(max(0.0, share.start + due - time.monotonic()))
            tasks.append(asyncio.ensure_future(one(number, due)))
            number += step
        try:
            await asyncio.gather(*tasks)
        finally:
            pool.close()

