"""Serving load benchmark: the batching ONNX Runtime service vs a naive PyTorch pipeline server.

In one run, on 127.0.0.1, with SST-2 dev sentences (one sentence per request):
1. offline ONNX Runtime throughput of the same model on the same sentences (sorted by length,
   full batches, no HTTP) -- the ceiling the server is measured against;
2. the baseline (bench/serving/baseline_app.py: the fine-tuned teacher in a transformers pipeline, one
   request at a time) under closed-loop load at several concurrency levels (bench/loadgen);
3. the service (`python -m service`) under the same load.
Writes <output-dir>/serving_load.json and serving_load.png, and the section
"## Serving load (SST-2 dev)" of the results file (other sections are kept).

    python -m bench.serving.load --model-repository models --model sentiment --teacher-dir runs/sst2/teacher
    python -m bench.serving.load --tiny --output-dir /tmp/load   # dry run on tiny random models
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.harness.client import get_json
from bench.harness.paths import SHARED_DATA
from bench.harness.results import command_line, write_json
from bench.harness.server import python_server
from bench.loadgen import LoadResult, closed_loop, describe, sentence_bodies
from bench.serving.load_report import plot, write_section

DEFAULT_DATA = SHARED_DATA / "sst2" / "dev.tsv"


def read_sentences(path: Path, limit: int | None) -> list[str]:
    with open(path, newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        texts = [row["sentence"] for row in rows]
    return texts[:limit] if limit else texts


def offline_throughput(repository: Path, model: str, texts: list[str], batch: int, threads: int,
                       variant: str, repeats: int = 3) -> dict:
    """Texts per second of the bare runtime: tokenize, sort by length, run full batches."""
    from service.serving.loading import load_runtime
    from service.settings import Settings

    settings = Settings(model_repository=repository, intra_op_threads=threads, variant=variant)
    runtime = load_runtime(repository / model, settings)
    runtime.run([runtime.encode(texts[:batch], truncation=True)[0].ids] * batch)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        ids = [e.ids for e in runtime.encode(texts, truncation=True)]
        ids.sort(key=len)
        for start in range(0, len(ids), batch):
            runtime.run(ids[start : start + batch])
        best = min(best, time.perf_counter() - started)
    return {"texts_per_s": round(len(texts) / best, 1), "batch": batch, "variant": runtime.variant,
            "provider": runtime.provider, "texts": len(texts)}


def sweep(url: str, bodies: list[bytes], levels: list[int], seconds: float, warmup_s: float) -> list[LoadResult]:
    closed_loop(f"{url}/v1/sentiment", bodies, max(levels), warmup_s)  # warm caches and threads
    results = []
    for level in levels:
        result = closed_loop(f"{url}/v1/sentiment", bodies, level, seconds)
        print(f"  c={level:<4} {result.throughput:8.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
              f"p95 {result.p95_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  errors {result.errors}",
              flush=True)
        results.append(result)
    return results


def model_info(url: str, model: str) -> dict:
    return get_json(f"{url}/v1/models/{model}")


def build_tiny(root: Path) -> tuple[Path, Path]:
    """Tiny random model folder + the same model in PyTorch as the "teacher", for checking the
    script end to end."""
    import warnings

    from tests.service.model_folders import SENTIMENT_LABELS, build_classifier_folder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_classifier_folder(root / "models" / "sentiment", SENTIMENT_LABELS, with_int8_copy=True,
                                checkpoint_dir=root / "teacher")
    return root / "models", root / "teacher"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Serving load benchmark (service vs naive pipeline server).")
    p.add_argument("--model-repository", type=Path, help="Model repository the service serves.")
    p.add_argument("--model", default="sentiment", help="Model folder to load (served on /v1/sentiment).")
    p.add_argument("--teacher-dir", type=Path, help="PyTorch teacher checkpoint for the baseline.")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SST-2 dev.tsv (sentence<TAB>label).")
    p.add_argument("--limit", type=int, default=None, help="Use only the first N sentences.")
    p.add_argument("--concurrency", default="1,4,16,64", help="Comma-separated connection counts.")
    p.add_argument("--seconds", type=float, default=15.0, help="Measured seconds per level.")
    p.add_argument("--warmup-seconds", type=float, default=3.0, help="Unmeasured load before a sweep.")
    p.add_argument("--threads", type=int, default=0, help="Intra-op threads for ORT and torch (0: default).")
    p.add_argument("--variant", default="auto", help="Service variant (auto, fp32, int8, fp16).")
    p.add_argument("--server-args", default="", help="Extra flags for the service, e.g. '--max-wait-ms 2'.")
    p.add_argument("--skip-baseline", action="store_true", help="Measure the service only.")
    p.add_argument("--output-dir", type=Path, default=Path("docs"), help="Where the JSON and PNG go.")
    p.add_argument("--results", type=Path, default=None,
                   help="Markdown file to update (default: <output-dir>/RESULTS.md).")
    p.add_argument("--tiny", action="store_true", help="Dry run on tiny random models built in a temp dir.")
    return p.parse_args(argv)


def run_systems(args, repository: Path, bodies: list[bytes], levels: list[int], work: Path) -> dict:
    threads = ["--threads", str(args.threads)] if args.threads else []
    systems: dict = {}
    if not args.skip_baseline:
        print("baseline: transformers pipeline, one request at a time", flush=True)
        with python_server(["-m", "bench.serving.baseline_app", "--teacher-dir", str(args.teacher_dir), *threads],
                           work / "baseline.log") as server:
            systems["baseline"] = {"results": sweep(server.url, bodies, levels, args.seconds, args.warmup_seconds)}
    print("service: dynamic batching on ONNX Runtime", flush=True)
    serve = ["-m", "service", "--model-repository", str(repository), "--models", args.model,
             "--sentiment-model", args.model, "--variant", args.variant, "--log-level", "warning",
             "--intra-op-threads", str(args.threads), *args.server_args.split()]
    with python_server(serve, work / "service.log") as server:
        url = server.url
        info = model_info(url, args.model)
        systems["service"] = {"results": sweep(url, bodies, levels, args.seconds, args.warmup_seconds),
                              "variant": info["variant"], "provider": info["provider"],
                              "args": serve[2:]}
    return systems


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    work = Path(tempfile.mkdtemp(prefix="load-"))
    if args.tiny:
        args.model_repository, args.teacher_dir = build_tiny(work)
    if args.model_repository is None or (args.teacher_dir is None and not args.skip_baseline):
        raise SystemExit("give --model-repository and --teacher-dir (or --skip-baseline, or --tiny)")
    texts = read_sentences(args.data, args.limit)
    bodies = sentence_bodies(texts)
    print(f"{len(texts)} sentences from {args.data}; logs in {work}", flush=True)
    offline = offline_throughput(args.model_repository, args.model, texts, batch=32,
                                 threads=args.threads, variant=args.variant)
    print(f"offline ONNX Runtime: {offline['texts_per_s']} texts/s", flush=True)
    systems = run_systems(args, args.model_repository, bodies, levels, work)
    report = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command_line("bench.serving.load", argv),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "data": str(args.data), "sentences": len(texts), "seconds_per_level": args.seconds,
        "model_repository": str(args.model_repository), "model": args.model,
        "teacher_dir": str(args.teacher_dir) if args.teacher_dir else None, "tiny": args.tiny,
        "offline": offline,
        "systems": {k: {**v, "results": [r.as_dict() for r in v["results"]]} for k, v in systems.items()},
    }
    report["load_generator"] = describe([r for v in report["systems"].values() for r in v["results"]])
    write_json(args.output_dir / "serving_load.json", report)
    plot(report, args.output_dir / "serving_load.png")
    results_file = args.results or args.output_dir / "RESULTS.md"
    write_section(report, results_file, "serving_load.png")
    print(f"wrote {args.output_dir / 'serving_load.json'}, serving_load.png and {results_file}")


if __name__ == "__main__":
    main()
