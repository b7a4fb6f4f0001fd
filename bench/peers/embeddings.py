"""Sentence-embedding serving: this service's /v1/embeddings against infinity-emb's /embeddings,
both OpenAI-shaped, on the same INT8 encoder (`bench/peers/embedding_folder.py` builds the two folders).

    .venv/bin/python -m bench.peers.embedding_folder --output runs/embeddings/models/minilm-embed
    .venv/bin/python -m bench.peers.embeddings --model-folder runs/embeddings/models/minilm-embed

The service serves the model folder (its INT8 file: the encoder with mean pooling and L2
normalisation inside the graph); infinity-emb (`--engine optimum`, ONNX Runtime through optimum)
serves MODEL_FOLDER.encoder, the same encoder exported, fused and quantised the same way without
the pooling, which infinity does itself. Each request is `{"model", "input": [texts]}` with 1 or 32
STS-B dev sentences (`--sizes`); the load is the project's load generator in a closed loop
(`bench/loadgen`, one process) at each `--concurrency`, counting the answers of
`--seconds` after `--settle-seconds` of the same load. One server runs at a time; the order
turns each round; the tables show medians over rounds. Server CPU is the user + system time of
the server's process tree across a run, per answered request. Agreement: the cosine between the
two systems' vectors of the first `--agreement-sentences` sentences.

Writes docs/embedding_peers.json and the section "## Sentence embeddings: serving peers" of
docs/RESULTS.md, unless `--print-only`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness.client import post_json
from bench.harness.paths import ROOT
from bench.harness.results import RESULTS, command_line, publish
from bench.loadgen import closed_loop, describe, json_bodies
from bench.peers.embedding_folder import DEFAULT_STS, sts_sentences
from bench.peers.environments import DEFAULT_CACHE, ensure_env, peer_envs
from bench.peers.sweep import cpu_used, tree_cpu_seconds
from bench.peers.systems import System, infinity_command, infinity_env, running

HEADING = "## Sentence embeddings: serving peers (STS-B sentences)"
OLD_GENERATOR = "`bench/closed_loop.py` (one process; since replaced by `bench/loadgen`)"  # results without the key


def service_system(folder: Path, flags: list[str]) -> System:
    command = [sys.executable, "-m", "service", "--model-repository", str(folder.parent), "--models", folder.name,
               "--variant", "auto", "--log-level", "warning", *flags, "--port", "{port}"]
    return System("service", command, "/readyz", "/v1/embeddings", lambda text: {"input": [text]}, lambda a: "",
                  f"`python -m service {' '.join(flags)}` (this repository; otherwise default settings) on "
                  f"{folder.name}/model.int8.onnx", versions={"distilserve": metadata.version("distilserve")})


def infinity_system(cache: Path, peer: Path, served_name: str) -> System:
    python, versions = ensure_env(cache, peer_envs()["infinity"])
    # --pooling-method mean: its optimum engine's default ("auto") pools the [CLS] state
    return System("infinity", infinity_command(python, served_name, "optimum", "--pooling-method", "mean"),
                  "/health", "/embeddings", lambda text: {"input": [text]}, lambda a: "",
                  f"infinity-emb `v2 --engine optimum --pooling-method mean --batch-size 32 --no-model-warmup "
                  f"--onnx-disable-optimize --no-compile` on {peer.name}/model_quantized.onnx", env=infinity_env(cache),
                  versions=versions, cwd=peer)


def request_bodies(model: str, texts: list[str], size: int, count: int = 200) -> list[bytes]:
    """`count` bodies of `size` consecutive sentences each (wrapping round the list)."""
    return json_bodies({"model": model, "input": [texts[(i * size + j) % len(texts)] for j in range(size)]}
                       for i in range(count))


def embeddings_of(url: str, model: str, texts: list[str]) -> np.ndarray:
    """Vectors of the texts, 32 per request, in order."""
    rows = []
    for start in range(0, len(texts), 32):
        answer = post_json(url, {"model": model, "input": texts[start:start + 32]})
        rows += [d["embedding"] for d in sorted(answer["data"], key=lambda d: d["index"])]
    return np.array(rows, dtype=np.float64)


def measure(url: str, pid: int, bodies: list[bytes], level: int, args: argparse.Namespace, size: int
            ) -> dict[str, Any]:
    load = os.getloadavg()[0]
    before = tree_cpu_seconds(pid)
    result = closed_loop(url, bodies, level, args.seconds, processes=1, settle_s=args.settle_seconds)
    spent = cpu_used(before, tree_cpu_seconds(pid))
    answered = result.requests - result.errors
    return {**result.as_dict(), "texts_per_s": round(result.throughput * size, 1), "load_average_before": load,
            "cpu_ms_per_request": round(1000 * spent / answered, 3) if answered else None}


def run_round(system: System, args: argparse.Namespace, bodies: dict[int, list[bytes]], texts: list[str],
              work: Path, raw: dict[str, Any]) -> None:
    entry = raw.setdefault(system.name, {"runs": {}})
    with running(system, work / f"{system.name}.log", args.ready_timeout) as server:
        url, pid = server.url + system.endpoint, server.process.pid
        if "vectors" not in entry:
            entry["vectors"] = embeddings_of(url, args.model_folder.name, texts[:args.agreement_sentences])
        closed_loop(url, bodies[max(bodies)], min(args.levels), args.warmup_seconds, processes=1)
        for size in args.sizes:
            for level in args.levels:
                result = measure(url, pid, bodies[size], level, args, size)
                entry["runs"].setdefault(f"{size}/{level}", []).append(result)
                print(f"  {system.name:<9} {size:>2} per request c={level:<3} {result['throughput']:8.1f} req/s "
                      f"{result['texts_per_s']:8.1f} texts/s  p50 {result['p50_ms']:7.2f}  p99 {result['p99_ms']:7.2f} ms"
                      f"  cpu {result['cpu_ms_per_request'] or 0:6.2f} ms/req  errors {result['errors']}  "
                      f"load {result['load_average_before']:.1f}", flush=True)


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    return {"rounds": len(runs), **{k: med(k) for k in ("throughput", "texts_per_s", "p50_ms", "p99_ms",
                                                         "cpu_ms_per_request")},
            "errors": sum(r["errors"] for r in runs),
            "load_average": [min(r["load_average_before"] for r in runs), max(r["load_average_before"] for r in runs)]}


def agreement(raw: dict[str, Any]) -> dict[str, float] | None:
    if any("vectors" not in raw.get(name, {}) for name in ("service", "infinity")):
        return None
    a, b = raw["service"]["vectors"], raw["infinity"]["vectors"]
    cosines = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {"sentences": len(cosines), "mean_cosine": round(float(cosines.mean()), 6),
            "min_cosine": round(float(cosines.min()), 6)}


def table(report: dict[str, Any]) -> list[str]:
    lines = ["| texts per request | connections | system | req/s | texts/s | p50 ms | p99 ms | server CPU ms/req "
             "| errors | service / infinity req/s |", "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    summary = report["summary"]
    for key in (f"{s}/{c}" for s in report["sizes"] for c in report["concurrency"]):
        size, level = key.split("/")
        rows = {n: d[key] for n, d in summary.items() if key in d}
        ours, theirs = rows.get("service"), rows.get("infinity")
        ratio = f"{ours['throughput'] / theirs['throughput']:.2f}x" if ours and theirs and theirs["throughput"] else ""
        for name, row in rows.items():
            lines.append(f"| {size} | {level} | {name} | {row['throughput']:.1f} | {row['texts_per_s']:.1f} | "
                         f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['cpu_ms_per_request'] or 0:.2f} | "
                         f"{row['errors']} | {ratio if name == 'service' else ''} |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    agree = report["agreement"]
    loads = [v for d in report["summary"].values() for row in d.values() for v in row["load_average"]]
    lines = [HEADING, "",
             f"Measured {report['measured_at']} on {report['cpus']} CPU cores shared with other jobs (1-minute "
             f"load average {min(loads):.1f}-{max(loads):.1f} before the runs), `{report['command']}`: "
             f"{report['sentences']} STS-B dev sentences, closed loop from "
             f"{report.get('load_generator', OLD_GENERATOR)} on the same cores after a "
             f"{report['warmup_seconds']:g} s warm-up per start; at each level the answers "
             f"of {report['seconds']:g} s count, after {report['settle_seconds']:g} s of the same load; one "
             f"server up at a time, {report['rounds']} round(s) with the order turned; medians "
             "over rounds. Both answer OpenAI-shaped requests `{\"model\", \"input\": [texts]}` with float "
             "vectors.", ""]
    for name, info in report["systems"].items():
        pins = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
        lines.append(f"- `{name}`: {info['description']}" + (f" ({pins})" if pins else ""))
    for name, reason in report["failed"].items():
        lines.append(f"- `{name}` could not be measured: {reason}")
    if agree:
        lines.append(f"- The two systems' vectors of the first {agree['sentences']} sentences: cosine mean "
                     f"{agree['mean_cosine']:.6f}, least {agree['min_cosine']:.6f}.")
    return "\n".join([*lines, "", *table(report)]) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="This service's /v1/embeddings vs infinity-emb's /embeddings on "
                                "the same INT8 encoder (closed loop, one server at a time, medians over rounds).")
    p.add_argument("--model-folder", type=Path, required=True, help="Feature-extraction model folder written by "
                   "bench/peers/embedding_folder.py (infinity serves MODEL_FOLDER.encoder).")
    p.add_argument("--systems", default="service,infinity", help="Comma-separated: service, infinity.")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="Where infinity-emb's virtual environment "
                   "lives (bench/peers/classification.py installs it there; default: %(default)s).")
    p.add_argument("--data", type=Path, default=DEFAULT_STS, help="STS-B dev.tsv (its sentences are the load).")
    p.add_argument("--sizes", default="1,32", help="Comma-separated texts per request.")
    p.add_argument("--concurrency", default="16,64", help="Comma-separated connection counts.")
    p.add_argument("--seconds", type=float, default=10.0, help="Measured seconds per level.")
    p.add_argument("--settle-seconds", type=float, default=5.0, help="Load before each measured window "
                   "(queues fill; only answers within the window count).")
    p.add_argument("--warmup-seconds", type=float, default=3.0, help="Unmeasured load after each start.")
    p.add_argument("--service-args", default="--queue-limit 4096", help="Flags for this service (default: a queue "
                   "that holds 64 connections x 32 texts; the default 1024 items would answer 429).")
    p.add_argument("--rounds", type=int, default=2, help="Rounds over the systems; medians are reported.")
    p.add_argument("--agreement-sentences", type=int, default=64, help="Sentences whose vectors are compared.")
    p.add_argument("--ready-timeout", type=float, default=300.0, help="Seconds a server may take to start.")
    p.add_argument("--results", type=Path, default=RESULTS, help="Markdown file whose section is rewritten.")
    p.add_argument("--output-json", type=Path, default=ROOT / "docs" / "embedding_peers.json",
                   help="Raw numbers.")
    p.add_argument("--print-only", action="store_true", help="Print the table; write neither file.")
    args = p.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.levels = [int(c) for c in args.concurrency.split(",")]
    return args


def build_systems(args: argparse.Namespace, folder: Path) -> tuple[dict[str, System], dict[str, str]]:
    systems, failed = {}, {}
    for name in [n.strip() for n in args.systems.split(",") if n.strip()]:
        try:
            systems[name] = service_system(folder, shlex.split(args.service_args)) if name == "service" else \
                infinity_system(args.cache.expanduser(), folder.with_name(folder.name + ".encoder"), folder.name)
        except (RuntimeError, OSError, KeyError) as exc:
            failed[name] = f"setup failed: {exc}"
    return systems, failed


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    folder = args.model_folder = args.model_folder.resolve()
    if not (folder / "manifest.json").is_file() or not args.data.is_file():
        raise SystemExit(f"needs {folder}/manifest.json and --data {args.data}")
    texts = sts_sentences(args.data, 10_000)
    systems, failed = build_systems(args, folder)
    bodies = {size: request_bodies(folder.name, texts, size) for size in args.sizes}
    work = Path(tempfile.mkdtemp(prefix="embedding-peers-"))
    raw: dict[str, Any] = {}
    names = list(systems)
    for index in range(args.rounds):
        order = names[index % len(names):] + names[:index % len(names)]
        print(f"round {index + 1}/{args.rounds}: {', '.join(order)} (logs in {work})", flush=True)
        for name in (n for n in order if n not in failed):
            try:
                run_round(systems[name], args, bodies, texts, work, raw)
            except (RuntimeError, OSError) as exc:
                failed[name] = str(exc)
                print(f"  {name} FAILED: {exc}", flush=True)
    report = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
        "command": command_line("bench.peers.embeddings", argv),
        "sentences": len(texts), "sizes": args.sizes, "concurrency": args.levels, "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds, "settle_seconds": args.settle_seconds, "rounds": args.rounds, "model_folder": str(folder),
        "systems": {n: {"description": s.description, "versions": s.versions} for n, s in systems.items()},
        "failed": failed, "agreement": agreement(raw),
        "summary": {n: {k: median_row(v) for k, v in e["runs"].items()} for n, e in raw.items()},
        "raw": {n: e["runs"] for n, e in raw.items()},
        "load_generator": describe([r for e in raw.values() for runs in e["runs"].values() for r in runs]),
    }
    text = markdown(report)
    print("\n" + text)
    if not args.print_only:
        publish(HEADING, text, args.results, args.output_json, report)
        print(f"wrote {args.output_json} and the section {HEADING!r} of {args.results}")


if __name__ == "__main__":
    main()
