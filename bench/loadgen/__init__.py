"""The project's HTTP load generator, used by every serving benchmark.

Python only (it runs on every host, the GPU machines included), raw HTTP/1.1 keep-alive over
asyncio streams (on uvloop where it is installed), spread over several processes for high rates:
- closed loop: N connections, each sends its next request when the previous answer came
  (`closed_loop`), optionally counting only the answers of a window after a settling time;
- open loop: requests leave at a fixed rate whether or not earlier ones were answered
  (`open_loop`), and every request's outcome is kept: status, latency, Retry-After, or the
  transport error (ConnectError, ReadError, ProtocolError, Timeout).
Both give a `LoadResult`: requests/s, p50/p90/p95/p99, errors and statuses, and the generator's
own CPU time per request. Request bodies (JSON documents) are taken in turn, each with the URL's
path or a path of its own. `cpus=` (`--cpus 2,3`) pins the generator's processes.

    python -m bench.loadgen URL BODIES.jsonl --concurrency 64 --seconds 10 [--rate R] [--cpus 2,3]

The processes are started with `spawn`: a script that calls the generator needs the usual
`if __name__ == "__main__":` guard around its work.

Its CPU cost against wrk's (2 shared x86_64 cores, 2026-12-05): the service on the near-free model
of `python -m bench.serving.options --tiny` pinned to CPU 0 (`taskset -c 0 python -m service ...`), 872
SST-2 dev sentences one per request, c=64, 10 s per run, two rounds in turn, the generator pinned
to CPU 1: `python -m bench.loadgen URL bodies.jsonl --concurrency 64 --seconds 10 --cpus 1` against
`taskset -c 1 wrk -t1 -c64 -d10s -s bodies.lua URL` (CPU time from `/usr/bin/time`). Requests/s
(the server's single core is the limit): this generator 2768 and 2815, wrk 2982 and 2783. CPU per
request: this generator 0.033 ms during the run (its own `generator_cpu_ms_per_request`), 0.041 ms
for the whole command with Python's start-up; wrk 0.022 ms. So about 1.5x wrk's CPU per request,
some 9% of a core at 2,800 requests/s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from bench.loadgen.procs import Plan, Request, closed_loop, open_loop, run
from bench.loadgen.result import LoadResult, Outcome, percentile, summary

NAME = "bench/loadgen"


def json_bodies(documents: Iterable) -> list[bytes]:
    return [json.dumps(document).encode() for document in documents]


def sentence_bodies(texts: Iterable[str]) -> list[bytes]:
    """One text per request in the service's /v1 form."""
    return json_bodies({"inputs": text, "truncation": True} for text in texts)


def read_requests(path: Path, with_paths: bool = False) -> list[Request]:
    """One JSON body per line; with `with_paths`, each line is `[PATH, BODY]`."""
    lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not with_paths:
        return [line.encode() for line in lines]
    return [(path_, json.dumps(body).encode()) for path_, body in map(json.loads, lines)]


def cpu_text(cpus: list[int]) -> str:
    """`CPU 3`, `CPUs 4-7` or `CPUs 0,2,5`."""
    if len(cpus) == 1:
        return f"CPU {cpus[0]}"
    if list(cpus) == list(range(cpus[0], cpus[-1] + 1)):
        return f"CPUs {cpus[0]}-{cpus[-1]}"
    return "CPUs " + ",".join(map(str, cpus))


def describe(rows: list[dict]) -> str:
    """How the load of these results (`LoadResult.as_dict()` rows) was generated, for a report."""
    processes = max((r.get("processes", 1) for r in rows), default=1)
    cpus = sorted({c for r in rows for c in r.get("cpus") or []})
    pinned = f", pinned to {cpu_text(cpus)}" if cpus and any(r.get("pinned") for r in rows) else ""
    return (f"`{NAME}` (Python asyncio, HTTP/1.1 keep-alive, {processes} process{'es' if processes > 1 else ''}"
            f"{pinned})")


__all__ = ["LoadResult", "NAME", "Outcome", "Plan", "Request", "closed_loop", "cpu_text", "describe", "json_bodies",
           "open_loop", "percentile", "read_requests", "run", "sentence_bodies", "summary"]
