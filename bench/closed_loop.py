"""A closed-loop HTTP load generator in Python, for hosts without wrk (the GPU machines).

N connections, spread over several processes; each connection sends its next request as soon as
the previous answer arrived (HTTP/1.1 keep-alive, raw asyncio streams: far less CPU per request
than an HTTP client library). Bodies rotate through a list of JSON documents. Returns requests/s
and latency percentiles like `bench.load_wrk.LoadResult`.

    python bench/closed_loop.py URL BODIES.jsonl --concurrency 64 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load_wrk import LoadResult  # noqa: E402
from bench.openloop import percentile  # noqa: E402


def _request_bytes(host: str, path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _connection(host: str, port: int, requests: list[bytes], offset: int, send_until: float,
                      counted: tuple[float, float], latencies: list[float], statuses: dict[int, int]) -> None:
    """Send requests until `send_until`; count the answers that arrive within `counted`."""
    reader, writer = await asyncio.open_connection(host, port)
    index = offset
    try:
        while time.perf_counter() < send_until:
            payload = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            writer.write(payload)
            status = await _read_response(reader)
            finished = time.perf_counter()
            if counted[0] <= finished <= counted[1]:
                latencies.append(finished - started)
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def _worker(url: str, bodies: list[bytes], connections: int, seconds: float, settle_s: float | None, seed: int,
            out) -> None:
    parts = urlsplit(url)
    requests = [_request_bytes(parts.netloc, parts.path or "/", b) for b in bodies]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0

    async def main() -> None:
        nonlocal errors
        start = time.perf_counter()
        if settle_s is None:  # every answer counts, also those that arrive after the deadline
            send_until, counted = start + seconds, (start, float("inf"))
        else:  # only answers within `seconds` after `settle_s`, when the queues are full
            send_until = start + settle_s + seconds
            counted = (start + settle_s, send_until)
        tasks = [_connection(parts.hostname, parts.port or 80, requests, seed * 7919 + i * 104729, send_until,
                             counted, latencies, statuses) for i in range(connections)]
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            errors += isinstance(result, Exception)

    asyncio.run(main())
    out.put((latencies, statuses, errors))


def run_closed_loop(url: str, bodies: list[bytes], concurrency: int, seconds: float,
                    processes: int | None = None, settle_s: float | None = None) -> LoadResult:
    """Drive `url` with `concurrency` connections for `seconds`; latencies in ms. With `settle_s`,
    the load runs `settle_s` longer and only answers in the last `seconds` count: a steady-state
    window, where the answers still in flight at the end of a run (one per connection, counted by
    default) would otherwise add up to `concurrency / seconds` to the rate of slow requests."""
    processes = max(1, min(processes or multiprocessing.cpu_count() // 2, concurrency))
    shares = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=_worker, args=(url, bodies, n, seconds, settle_s, i, out))
               for i, n in enumerate(shares)]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=seconds + (settle_s or 0) + 120) for _ in workers]
    for worker in workers:
        worker.join()
    latencies = [x for lat, _, _ in results for x in lat]
    statuses: dict[int, int] = {}
    for _, counts, _ in results:
        for code, n in counts.items():
            statuses[code] = statuses.get(code, 0) + n
    errors = sum(e for _, _, e in results) + sum(n for code, n in statuses.items() if code != 200)
    ms = [x * 1000 for x in latencies]

    def at(q: float) -> float:
        value = percentile(ms, q)
        return float("nan") if value is None else round(value, 3)

    return LoadResult(
        concurrency=concurrency, requests=len(latencies), seconds=seconds,
        throughput=round((len(latencies) - errors) / seconds, 1),
        p50_ms=at(50), p95_ms=at(95), p99_ms=at(99), mean_ms=round(sum(ms) / max(1, len(ms)), 3), errors=errors,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="full URL, e.g. http://127.0.0.1:8000/v1/sentiment")
    parser.add_argument("bodies", type=Path, help="one JSON request body per line")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=None, help="load processes (default: cores / 2)")
    args = parser.parse_args(argv)
    bodies = [line.encode() for line in args.bodies.read_text().splitlines() if line.strip()]
    result = run_closed_loop(args.url, bodies, args.concurrency, args.seconds, args.processes)
    print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
