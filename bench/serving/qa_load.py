"""Benchmark (not a test): answering questions over long contexts through the server.

    .venv/bin/python -m bench.serving.qa_load --model-repository models --model qa
        [--data ../shared/data/covid-qa/covid-qa-v1.json] [--concurrency 1,4,16] [--seconds 30]

Every COVID-QA question is sent with its whole article as the context (median about 21,000
characters), so the service cuts each request into dozens of windows and batches the windows of
all concurrent requests together. bench/loadgen drives `POST /v1/qa` closed-loop at each concurrency level;
the service's own `serve_items_processed_total` counter, read before and after each level, gives
the windows per second. Before the levels, the answers to `--quality` questions are scored (SQuAD
exact match and F1 against the gold answers). Writes docs/qa_load.json and the section "## Question answering over long
contexts (COVID-QA)" of docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shlex
import tempfile
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from bench.harness.client import get_text, post_json
from bench.harness.paths import SHARED_DATA
from bench.harness.results import RESULTS, command_line, publish
from bench.harness.server import python_server
from bench.loadgen import closed_loop, describe, json_bodies
from bench.serving.load import model_info

HEADING = "## Question answering over long contexts (COVID-QA)"
DEFAULT_DATA = SHARED_DATA / "covid-qa" / "covid-qa-v1.json"


def read_pairs(path: Path, limit: int | None, seed: int = 0) -> list[dict]:
    """{question, context} of every question in a SQuAD-format file, in a seeded random order:
    the load generator sends them in turn, and in file order a short run would see one or two articles."""
    document = json.loads(path.read_text(encoding="utf-8"))
    pairs = [{"question": qa["question"], "context": paragraph["context"],
              "answers": [a["text"] for a in qa.get("answers") or []]}
             for article in document["data"] for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
    random.Random(seed).shuffle(pairs)
    return pairs[:limit] if limit else pairs


def counters(url: str, model: str) -> dict[str, float]:
    """The service's own counts: windows run through the model, requests refused as queue-full."""
    text = get_text(f"{url}/metrics")

    def value(pattern: str) -> float:
        match = re.search(pattern + r" ([0-9.e+]+)$", text, re.M)
        return float(match.group(1)) if match else 0.0

    name = re.escape(model)
    return {"windows": value(rf'^serve_items_processed_total\{{model="{name}"\}}'),
            "queue_full": value(rf'^serve_rejections_total\{{model="{name}",reason="queue_full"\}}')}


def preflight(url: str, body: dict) -> None:
    """One request first, so a refusal (a limit, a wrong model name) stops the run with its message."""
    try:
        post_json(f"{url}/v1/qa", body, timeout=300)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"/v1/qa refused the first question: {error.code} {error.read().decode()}") from None


def ask(url: str, model: str, pair: dict) -> str:
    body = {"model": model, "question": pair["question"], "context": pair["context"]}
    answer = post_json(f"{url}/v1/qa", body, timeout=300)
    return (answer[0] if isinstance(answer, list) else answer)["answer"]


def answer_quality(url: str, model: str, pairs: list[dict], workers: int = 4) -> dict:
    """SQuAD exact match and F1 (max over the gold answers, official normalisation) of the served
    answers to `pairs`, asked `workers` at a time."""
    from distill.tasks.question_answering.metrics import exact_match, f1_score

    with ThreadPoolExecutor(workers) as pool:  # (a 504 here: raise the server's --request-timeout-s)
        answers = list(pool.map(lambda pair: ask(url, model, pair), pairs))
    em = [max(exact_match(a, g) for g in pair["answers"] or [""]) for a, pair in zip(answers, pairs)]
    f1 = [max(f1_score(a, g) for g in pair["answers"] or [""]) for a, pair in zip(answers, pairs)]
    return {"questions": len(pairs), "exact_match": sum(em) / len(em), "f1": sum(f1) / len(f1)}


def sweep(url: str, model: str, bodies: list[bytes], levels: list[int], seconds: float) -> list[dict]:
    closed_loop(f"{url}/v1/qa", bodies, max(levels), min(seconds, 5.0), timeout_s=120)  # warm-up
    rows = []
    for level in levels:
        before = counters(url, model)
        result = closed_loop(f"{url}/v1/qa", bodies, level, seconds, timeout_s=120)
        after = counters(url, model)
        windows, refused = after["windows"] - before["windows"], after["queue_full"] - before["queue_full"]
        row = {**result.as_dict(), "windows": windows, "windows_per_s": windows / result.seconds,
               "queue_full": refused}
        print(f"  c={level:<3} {result.throughput:6.2f} req/s  {row['windows_per_s']:7.1f} windows/s  "
              f"p50 {result.p50_ms:8.1f} ms  p95 {result.p95_ms:8.1f} ms  errors {result.errors} "
              f"(429 queue full: {refused:.0f})", flush=True)
        rows.append(row)
    return rows


def render(report: dict) -> str:
    lines = [
        HEADING, "",
        f"Command: `{report['command']}`", "",
        f"Model `{report['model']}` ({report['variant']} on {report['provider']}, max_seq_len "
        f"{report['max_seq_len']}, doc_stride {report['doc_stride']}), {report['pairs']} COVID-QA questions "
        f"each sent with its whole article (context median {report['context_chars_median']:,} characters, "
        f"max {report['context_chars_max']:,}) in a seeded random order; "
        f"{'closed loop from ' + report['load_generator'] + ', ' if 'load_generator' in report else ''}"
        f"{report['seconds_per_level']:g} s per level; "
        f"{report['machine']['cpus']} CPUs; measured {report['measured_at']}.", "",
        "| connections | requests/s | windows/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | of which 429 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    quality = report.get("quality")
    if quality:
        lines[5:5] = [f"Answers of the served model to {quality['questions']} of the questions (the first of the "
                      f"seeded order, 4 at a time, before the load levels), scored against the gold answers with "
                      f"SQuAD's normalisation: exact match {100 * quality['exact_match']:.1f}, "
                      f"F1 {100 * quality['f1']:.1f}.", ""]
    for row in report["results"]:
        lines.append(f"| {row['concurrency']} | {row['throughput']:.2f} | {row['windows_per_s']:.1f} | "
                     f"{row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['p99_ms']:.0f} | {row['errors']} | "
                     f"{row['queue_full']:.0f} |")
    return "\n".join(lines) + "\n"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-repository", type=Path, required=True, help="Repository holding the QA model.")
    parser.add_argument("--model", default="qa", help="QA model folder name.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SQuAD-format file with long contexts.")
    parser.add_argument("--limit", type=int, default=None, help="Use only the first N questions.")
    parser.add_argument("--concurrency", default="1,4,16", help="Comma-separated connection counts.")
    parser.add_argument("--seconds", type=float, default=30.0, help="Measured seconds per level.")
    parser.add_argument("--quality", type=int, default=200,
                        help="Score the answers to this many questions (0: none) before the load levels.")
    parser.add_argument("--server-args", default="", help="Extra flags for the service.")
    parser.add_argument("--output-dir", type=Path, default=RESULTS.parent, help="Where qa_load.json goes.")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Markdown file to update.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    levels = [int(level) for level in args.concurrency.split(",") if level.strip()]
    pairs = read_pairs(args.data, args.limit)
    if not pairs:
        raise SystemExit(f"{args.data}: no questions")
    work = Path(tempfile.mkdtemp(prefix="qa-load-"))
    bodies = json_bodies({"model": args.model, "question": pair["question"], "context": pair["context"]}
                         for pair in pairs)
    lengths = sorted(len(pair["context"]) for pair in pairs)
    serve = ["-m", "service", "--model-repository", str(args.model_repository), "--models", args.model,
             "--log-level", "warning", "--qa-max-context-chars", str(lengths[-1]), *shlex.split(args.server_args)]
    print(f"{len(pairs)} questions from {args.data}; logs in {work}", flush=True)
    with python_server(serve, work / "service.log") as server:
        url = server.url
        info = model_info(url, args.model)
        preflight(url, {"model": args.model, "question": pairs[0]["question"], "context": pairs[0]["context"]})
        quality = answer_quality(url, args.model, pairs[:args.quality]) if args.quality else None
        if quality:
            print(f"  answers: EM {100 * quality['exact_match']:.1f}, F1 {100 * quality['f1']:.1f} "
                  f"over {quality['questions']} questions", flush=True)
        results = sweep(url, args.model, bodies, levels, args.seconds) if levels else []
    qa_defaults = info.get("qa") or {}
    report = {
        "command": command_line("bench.serving.qa_load", argv),
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "data": str(args.data), "pairs": len(pairs), "seconds_per_level": args.seconds,
        "context_chars_median": lengths[len(lengths) // 2], "context_chars_max": lengths[-1],
        "model": args.model, "variant": info["variant"], "provider": info["provider"],
        "max_seq_len": info["max_seq_len"], "doc_stride": qa_defaults.get("doc_stride", "default"),
        "server_args": serve[2:], "quality": quality, "results": results, "load_generator": describe(results),
    }
    publish(HEADING, render(report), args.results, args.output_dir / "qa_load.json", report)
    print(render(report))


if __name__ == "__main__":
    main()
