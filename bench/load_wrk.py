"""Drive an HTTP endpoint with wrk (closed loop: N connections, each sends its next request when
the previous answer arrives) and read its latency percentiles back as numbers.

wrk is a small C load generator (Debian: `apt-get install wrk`); it needs far less CPU than a
Python generator, which matters when server and generator share two cores. Request bodies are
one JSON document per line of a file; each connection rotates through them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = r"""
local bodies = {}
local counter = 0
local headers = {["Content-Type"] = "application/json"}

function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  counter = math.random(#bodies)
end

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[counter])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean,
    latency.max))
end
"""


@dataclass
class LoadResult:
    concurrency: int
    requests: int
    seconds: float
    throughput: float  # answered requests per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    errors: int  # non-2xx answers + socket errors and timeouts

    def as_dict(self) -> dict:
        return asdict(self)


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk not found: install it (Debian/Ubuntu: apt-get install wrk)")
    return path


def write_bodies(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"inputs": t, "truncation": True}) + "\n" for t in texts))
    return path


def run_wrk(url: str, bodies: Path, concurrency: int, seconds: float, timeout_s: float = 30.0) -> LoadResult:
    """One closed-loop run of `seconds` with `concurrency` connections on one wrk thread."""
    script = bodies.with_suffix(".lua")
    script.write_text(LUA)
    command = [require_wrk(), "-t1", f"-c{concurrency}", f"-d{seconds:g}s", f"--timeout={timeout_s:g}s",
               "-s", str(script), url, "--", str(bodies)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRK_RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    seconds_run = raw["duration_us"] / 1e6
    errors = raw["status_errors"] + raw["socket_errors"]
    return LoadResult(
        concurrency=concurrency, requests=raw["requests"], seconds=round(seconds_run, 3),
        throughput=round((raw["requests"] - errors) / seconds_run, 2),
        p50_ms=raw["p50_us"] / 1e3, p95_ms=raw["p95_us"] / 1e3, p99_ms=raw["p99_us"] / 1e3,
        mean_ms=round(raw["mean_us"] / 1e3, 3), errors=errors,
    )
