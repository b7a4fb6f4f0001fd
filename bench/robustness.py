"""Benchmark (not a test): how the server holds up on the default models.

    .venv/bin/python bench/robustness.py soak --minutes 40 --rate 30
    .venv/bin/python bench/robustness.py overload --seconds 20
    .venv/bin/python bench/robustness.py sigterm --rate 100
    .venv/bin/python bench/robustness.py interference --seconds 30
    .venv/bin/python bench/robustness.py fuzz --max-examples 300

Each starts its own server (`python -m service`) on the model repository (default: models),
drives it with the open-loop generator of bench/openloop.py and writes docs/robustness/<run>.json.
- soak: SST-2 sentences at a modest fixed rate (/v1/sentiment, every tenth through /v2), the
  server's resident memory sampled every 30 s.
- overload: the capacity measured first (closed loop), then 4x that rate open-loop with a small
  queue: only 200 and 429 (with Retry-After) may come back, and every accepted request answered.
- sigterm: SIGTERM in the middle of a steady load; every request the server accepted must be
  answered, the rest refused at connect time.
- interference: p99 of single-sentence sentiment requests at low load, alone and while long
  COVID-QA requests (whole articles) run at the same time.
- fuzz: schemathesis over every operation, without and with an API key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import DEFAULT_DATA, read_sentences  # noqa: E402
from bench.load_procs import ROOT, child_server_process  # noqa: E402
from bench.openloop import open_loop, summary  # noqa: E402
from bench.qa_load import DEFAULT_DATA as COVID_QA, read_pairs  # noqa: E402

OUT = ROOT / "docs" / "robustness"
LOGS = Path(tempfile.gettempdir()) / "robustness"  # server logs


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_args(args: argparse.Namespace, *extra: str) -> list[str]:
    return ["-m", "service", "--model-repository", str(args.model_repository), "--models",
            args.models, "--log-level", "warning", *extra]


def sentence_requests(texts: list[str], v2_every: int = 0):
    def request(i: int):
        text = texts[i % len(texts)]
        if v2_every and i % v2_every == 0:
            return "/v2/models/sentiment/infer", {
                "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [text]}]}
        return "/v1/sentiment", {"inputs": text}
    return request


def log_path(name: str) -> Path:
    LOGS.mkdir(parents=True, exist_ok=True)
    return LOGS / f"{name}-server.log"


def write(name: str, result: dict, args: argparse.Namespace) -> None:
    result = {"run": name, "command": "python bench/robustness.py " + " ".join(sys.argv[1:]),
              "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs", **result}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def soak(args: argparse.Namespace) -> None:
    texts = read_sentences(DEFAULT_DATA, None)
    with child_server_process(server_args(args), log_path("soak")) as (url, process):
        samples = [(0.0, rss_mb(process.pid))]
        outcomes = asyncio.run(open_loop(url, sentence_requests(texts, 10), args.rate, args.minutes * 60,
                                         on_tick=lambda t: samples.append((round(t), rss_mb(process.pid)))))
        samples.append((args.minutes * 60, rss_mb(process.pid)))
    first_minute = [mb for t, mb in samples if t >= 60] or [samples[-1][1]]
    write("soak", {"rate_per_s": args.rate, "minutes": args.minutes, **summary(outcomes),
                   "rss_mb_start": round(samples[0][1], 1), "rss_mb_after_1_min": round(first_minute[0], 1),
                   "rss_mb_end": round(samples[-1][1], 1),
                   "rss_growth_after_1_min_mb": round(samples[-1][1] - first_minute[0], 1),
                   "rss_samples": [(t, round(mb, 1)) for t, mb in samples]}, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-repository", type=Path, default=ROOT / "models")
    parser.add_argument("--models", default="sentiment,qa")
    runs = parser.add_subparsers(dest="run", required=True)
    p = runs.add_parser("soak")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--rate", type=float, default=30, help="requests per second")
    args = parser.parse_args()
    {"soak": soak}[args.run](args)


if __name__ == "__main__":
    main()
