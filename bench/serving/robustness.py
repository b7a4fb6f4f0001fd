"""Benchmark (not a test): how the server holds up on the default models.

    .venv/bin/python -m bench.serving.robustness soak --minutes 40 --rate 30
    .venv/bin/python -m bench.serving.robustness overload --seconds 20
    .venv/bin/python -m bench.serving.robustness sigterm --rate 100
    .venv/bin/python -m bench.serving.robustness interference --seconds 30
    .venv/bin/python -m bench.serving.robustness fuzz --max-examples 300

Each starts its own server (`python -m service`) on the model repository (default: models),
drives it with the project's load generator (bench/loadgen, open loop unless said otherwise) and
writes docs/robustness/<run>.json.
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
import json
import platform
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from bench.harness.paths import ROOT
from bench.harness.results import command_line, write_json
from bench.harness.server import python_server
from bench.loadgen import closed_loop, open_loop, summary
from bench.serving.load import DEFAULT_DATA, read_sentences
from bench.serving.qa_load import DEFAULT_DATA as COVID_QA
from bench.serving.qa_load import read_pairs

OUT = ROOT / "docs" / "robustness"
LOGS = Path(tempfile.gettempdir()) / "robustness"  # server logs


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def server_args(args: argparse.Namespace, *extra: str) -> list[str]:
    return ["-m", "service", "--model-repository", str(args.model_repository), "--models",
            args.models, "--log-level", "warning", *shlex.split(args.server_args), *extra]


def sentence_requests(texts: list[str], v2_every: int = 0) -> list[tuple[str, bytes]]:
    """One sentence per request to /v1/sentiment, every `v2_every`-th through /v2 instead."""
    def request(i: int, text: str) -> tuple[str, dict]:
        if v2_every and i % v2_every == 0:
            return "/v2/models/sentiment/infer", {
                "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [text]}]}
        return "/v1/sentiment", {"inputs": text}
    return [(path, json.dumps(body).encode()) for path, body in (request(i, t) for i, t in enumerate(texts))]


def log_path(name: str) -> Path:
    LOGS.mkdir(parents=True, exist_ok=True)
    return LOGS / f"{name}-server.log"


def write(name: str, result: dict, args: argparse.Namespace) -> None:
    result = {"run": name, "command": command_line("bench.serving.robustness"),
              "measured": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs", **result}
    write_json(OUT / f"{name}.json", result)
    print(json.dumps(result, indent=2))


def soak(args: argparse.Namespace) -> None:
    texts = read_sentences(DEFAULT_DATA, None)
    with python_server(server_args(args), log_path("soak")) as server:
        url, process = server.url, server.process
        samples = [(0.0, rss_mb(process.pid))]
        result = open_loop(url, sentence_requests(texts, 10), args.rate, args.minutes * 60,
                           on_tick=lambda t: samples.append((round(t), rss_mb(process.pid))))
        samples.append((args.minutes * 60, rss_mb(process.pid)))
    first_minute = [mb for t, mb in samples if t >= 60] or [samples[-1][1]]
    write("soak", {"rate_per_s": args.rate, "minutes": args.minutes, **summary(result.outcomes),
                   "rss_mb_start": round(samples[0][1], 1), "rss_mb_after_1_min": round(first_minute[0], 1),
                   "rss_mb_end": round(samples[-1][1], 1),
                   "rss_growth_after_1_min_mb": round(samples[-1][1] - first_minute[0], 1),
                   "rss_samples": [(t, round(mb, 1)) for t, mb in samples]}, args)


def interference(args: argparse.Namespace) -> None:
    texts = read_sentences(DEFAULT_DATA, None)
    pairs = read_pairs(args.qa_data, None)
    sentiment = sentence_requests(texts)
    qa_requests = [("/v1/qa", json.dumps({"model": "qa", "question": pair["question"], "context": pair["context"]})
                    .encode()) for pair in pairs]  # (not the gold answers read_pairs also gives)

    def loaded(url: str):
        with ThreadPoolExecutor(1) as pool:  # the long requests in a closed loop of their own
            qa = pool.submit(closed_loop, url, qa_requests, args.qa_clients, args.seconds + 2, processes=1,
                             timeout_s=120, keep_outcomes=True)
            time.sleep(2)  # the long requests are running
            short = open_loop(url, sentiment, args.rate, args.seconds)
            return short, qa.result()

    with python_server(server_args(args), log_path("interference")) as server:
        url = server.url
        open_loop(url, sentiment, args.rate, 3)  # warm-up
        alone = open_loop(url, sentiment, args.rate, args.seconds)
        with_qa, qa = loaded(url)
    alone_s, with_s, qa_s = summary(alone.outcomes), summary(with_qa.outcomes), summary(qa.outcomes)
    contexts = [len(pairs[o.index]["context"]) for o in qa.outcomes]
    write("interference", {
        "rate_per_s": args.rate, "seconds": args.seconds, "qa_clients": args.qa_clients,
        "sentiment_alone": alone_s, "sentiment_with_qa": with_s, "qa": qa_s,
        "qa_context_chars_median": sorted(contexts)[len(contexts) // 2] if contexts else None,
        "p99_ratio": round(with_s["p99_ms"] / alone_s["p99_ms"], 2),
    }, args)


def overload(args: argparse.Namespace) -> None:
    texts = read_sentences(DEFAULT_DATA, None)
    batch = args.texts_per_request
    requests = [("/v1/sentiment", json.dumps({"inputs": [texts[(i * batch + j) % len(texts)] for j in range(batch)]})
                 .encode()) for i in range(len(texts))]

    extra = ("--queue-limit", str(args.queue_limit), "--models", "sentiment")
    with python_server(server_args(args, *extra), log_path("overload")) as server:
        url = server.url
        closed_loop(url, requests, 8, 3, processes=1)  # warm-up
        measured = closed_loop(url, requests, args.capacity_clients, args.seconds / 2, processes=1)
        capacity = measured.statuses.get("200", 0) / (args.seconds / 2)
        outcomes = open_loop(url, requests, 4 * capacity, args.seconds, keepalive=False).outcomes
    result = summary(outcomes)
    unanswered = [o for o in outcomes if o.status not in (200, 429)]
    write("overload", {
        "texts_per_request": batch, "queue_limit": args.queue_limit,
        "capacity_req_per_s": round(capacity, 1), "offered_req_per_s": round(4 * capacity, 1),
        "seconds": args.seconds, "capacity_run": measured.summary(), **result,
        "answered_200_per_s": round(result["by_status"].get("200", 0) / args.seconds, 1),
        "other_than_200_or_429": len(unanswered),
    }, args)


def sigterm(args: argparse.Namespace) -> None:
    texts = read_sentences(DEFAULT_DATA, None)
    # A long batching wait keeps many requests accepted and queued when SIGTERM arrives.
    extra = ("--models", "sentiment", "--max-wait-ms", str(args.max_wait_ms))
    signalled: list[float] = []
    with python_server(server_args(args, *extra), log_path("sigterm")) as server:
        url, process = server.url, server.process
        def halfway(t: float) -> None:  # called at 0 and halfway through the run
            if t > 0 and not signalled:
                process.send_signal(signal.SIGTERM)
                signalled.append(time.monotonic())

        run = open_loop(url, sentence_requests(texts), args.rate, args.seconds, keepalive=False,
                        on_tick=halfway, tick_s=args.seconds / 2)
        exit_code = process.wait(timeout=60)
    outcomes = run.outcomes
    cut = signalled[0] - run.started_at
    before = [o for o in outcomes if o.sent_s < cut]
    after = [o for o in outcomes if o.sent_s >= cut]
    lost = [o for o in outcomes if o.status not in (200, None) or (o.status is None and o.error != "ConnectError")]
    write("sigterm", {
        "rate_per_s": args.rate, "seconds": args.seconds, "sigterm_at_s": round(cut, 2),
        "sent_before_sigterm": summary(before), "sent_after_sigterm": summary(after),
        "in_flight_at_sigterm": sum(1 for o in before if o.sent_s + o.latency_s > cut),
        "max_wait_ms": args.max_wait_ms,
        "not_200_and_not_refused_at_connect": len(lost), "server_exit_code": exit_code,
    }, args)


FUZZ_CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
               "response_headers_conformance,response_schema_conformance,negative_data_rejection")


def _schemathesis(url: str, args: argparse.Namespace, *extra: str) -> dict:
    command = [str(Path(sys.executable).parent / "st"), "--config-file", str(ROOT / "schemathesis.toml"),
               "run", f"{url}/openapi.json", "--checks", FUZZ_CHECKS,
               "--max-examples", str(args.max_examples), "--seed", str(args.seed), "--workers", "1",
               "--phases", "examples,coverage,fuzzing", "--no-color", *extra]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=LOGS)  # its cache too
    output = result.stdout + result.stderr
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    failures = re.findall(r"^_+ (.+?) _+$", output, re.M)
    return {"exit_code": result.returncode, "seconds": round(time.monotonic() - started, 1),
            "generated": int(counts.group(1)) if counts else None,
            "passed": int(counts.group(2)) if counts else None, "failed_operations": failures}


def fuzz(args: argparse.Namespace) -> None:
    runs = {}
    with python_server(server_args(args), log_path("fuzz")) as server:
        url = server.url
        runs["without_api_key"] = _schemathesis(url, args)
    with python_server(server_args(args, "--api-key", "fuzz-key"), log_path("fuzz-key")) as server:
        url = server.url
        runs["with_api_key"] = _schemathesis(url, args, "--header", "Authorization: Bearer fuzz-key",
                                             "--checks", "ignored_auth")
    write("fuzz", {"max_examples": args.max_examples, "seed": args.seed, "checks": FUZZ_CHECKS, **runs}, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-repository", type=Path, default=ROOT / "models")
    parser.add_argument("--models", default="sentiment,qa")
    parser.add_argument("--server-args", default="", help="more flags for the server, e.g. '--intra-op-threads 1'")
    runs = parser.add_subparsers(dest="run", required=True)
    p = runs.add_parser("soak")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--rate", type=float, default=30, help="requests per second")
    p = runs.add_parser("interference")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--rate", type=float, default=20, help="sentiment requests per second")
    p.add_argument("--qa-clients", type=int, default=2, help="concurrent COVID-QA requests")
    p.add_argument("--qa-data", type=Path, default=COVID_QA)
    p = runs.add_parser("overload")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--texts-per-request", type=int, default=16)
    p.add_argument("--queue-limit", type=int, default=256)
    p.add_argument("--capacity-clients", type=int, default=16)
    p = runs.add_parser("sigterm")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--max-wait-ms", type=float, default=300)
    p = runs.add_parser("fuzz")
    p.add_argument("--max-examples", type=int, default=300)
    p.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    {"fuzz": fuzz, "soak": soak, "interference": interference, "overload": overload, "sigterm": sigterm}[args.run](args)


if __name__ == "__main__":
    main()
