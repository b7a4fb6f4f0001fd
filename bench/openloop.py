"""An open-loop HTTP load generator: requests leave at a fixed rate whether or not earlier ones
have been answered (unlike wrk's closed loop), which is what an overload or a soak needs. Every
request's outcome is kept: status, latency, Retry-After, or the transport error."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import httpx

Request = tuple[str, dict]  # path, JSON body


@dataclass(frozen=True)
class Outcome:
    sent_s: float  # since the start of the run
    latency_s: float
    status: int | None  # None: no HTTP answer (see error)
    error: str | None = None
    retry_after: str | None = None


async def _send(client: httpx.AsyncClient, request: Request, started: float) -> Outcome:
    path, body = request
    sent = time.monotonic()
    try:
        response = await client.post(path, json=body)
    except httpx.HTTPError as exc:
        return Outcome(sent - started, time.monotonic() - sent, None, type(exc).__name__)
    return Outcome(sent - started, time.monotonic() - sent, response.status_code,
                   retry_after=response.headers.get("retry-after"))


async def open_loop(url: str, requests: Callable[[int], Request], rate: float, seconds: float,
                    timeout_s: float = 60.0, on_tick: Callable[[float], None] | None = None,
                    keepalive: bool = True) -> list[Outcome]:
    """Send requests(i) at `rate` per second for `seconds`; wait for every answer. Without
    `keepalive` each request opens its own connection (a refused connect is then unambiguous)."""
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200 if keepalive else 0)
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits) as client:
        started = time.monotonic()
        tasks, next_tick = [], 0.0
        for i in itertools.count():
            due = started + i / rate
            if due - started >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(_send(client, requests(i), started)))
            if on_tick is not None and due - started >= next_tick:
                on_tick(due - started)
                next_tick += 30.0
        return list(await asyncio.gather(*tasks))


def percentile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summary(outcomes: list[Outcome]) -> dict:
    """Counts by status (or error type) and latency percentiles of the answered requests (ms)."""
    kinds = Counter(str(o.status) if o.status is not None else o.error for o in outcomes)
    ok = [o.latency_s * 1000 for o in outcomes if o.status == 200]
    return {
        "requests": len(outcomes), "by_status": dict(sorted(kinds.items())),
        "p50_ms": _ms(percentile(ok, 50)), "p99_ms": _ms(percentile(ok, 99)),
        "max_ms": round(max(ok), 2) if ok else None,
        "429_without_retry_after": sum(1 for o in outcomes if o.status == 429 and not o.retry_after),
    }


async def closed_loop(url: str, requests: Callable[[int], Request], clients: int, seconds: float,
                      timeout_s: float = 120.0) -> list[Outcome]:
    """`clients` loops, each sending its next request when the previous one is answered."""
    outcomes: list[Outcome] = []
    counter = itertools.count()
    async with httpx.AsyncClient(base_url=url, timeout=timeout_s) as client:
        started = time.monotonic()

        async def loop() -> None:
            while time.monotonic() - started < seconds:
                outcomes.append(await _send(client, requests(next(counter)), started))

        await asyncio.gather(*(loop() for _ in range(clients)))
    return outcomes
