"""The GPU check, one command on a CUDA host (benchmark, not a test):

    python -m bench.gpu.check --model-folder DIR --data dev.tsv [--output-json F] [--results docs/RESULTS.md]

DIR is a classification model folder with fp32 and fp16 variants (as `distill export` writes it on
any machine; an fp16 exported without a GPU is `unvalidated`). The script
1. loads it as the service does on CUDA (`--variant auto`): the start-up check runs fp16 and fp32 on
   the folder's validation sample, and the result says whether fp16 is served;
2. measures offline ONNX Runtime throughput of fp32 and fp16 (tokenize, sort by length, batches);
3. serves each variant (`python -m service`, CUDA) and drives `POST /v1/sentiment` with one sentence
   per request at several concurrencies (closed loop, `bench/loadgen`), with one worker and, with
   `--workers`, with several; the server runs pinned to some of the host's CPUs and the load
   generator to the others (`--load-cpus`; on a host with fewer than 8 CPUs they share them);
4. writes its section of docs/RESULTS.md ("## GPU (CUDA)") and the raw numbers as JSON.

`--render-only JSON` rewrites the section from a saved JSON (the GPU host's copy of the results
file does not come back by itself). `--allow-cpu --providers CPUExecutionProvider` runs the same
steps on a CPU, to check the script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.harness.results import RESULTS, write_json, write_section
from bench.harness.server import python_server
from bench.loadgen import closed_loop, cpu_text, describe
from bench.serving.load import offline_throughput, read_sentences

HEADING = "## GPU (CUDA)"
CUDA = "CUDAExecutionProvider"
TARGET_SHARE = 0.70  # served fp16 throughput against offline fp16
MIN_CPUS_TO_PIN = 8  # fewer: server and load generator share the CPUs
OLD_GENERATOR = "`bench/closed_loop.py` (since replaced by `bench/loadgen`)"  # in results without the key


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-folder", type=Path, help="classification model folder with fp32 and fp16")
    p.add_argument("--data", type=Path, help="SST-2 dev.tsv (sentence<TAB>label)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N sentences")
    p.add_argument("--concurrency", default="1,16,64,256", help="comma-separated connection counts")
    p.add_argument("--seconds", type=float, default=8.0, help="measured seconds per level")
    p.add_argument("--batch", type=int, default=128, help="offline batch size")
    p.add_argument("--texts-per-request", type=int, default=1,
                   help="sentences in each request's inputs list (1: a bare string)")
    p.add_argument("--workers", default="", help="also serve fp16 with these worker counts, e.g. '4'")
    p.add_argument("--load-cpus", type=int, default=-1,
                   help="CPUs for the load generator, the last of this process's (-1: a quarter of them on a "
                        "host with at least 8, else none pinned; 0: no pinning); the server gets the others")
    p.add_argument("--providers", default=f"{CUDA},CPUExecutionProvider")
    p.add_argument("--allow-cpu", action="store_true", help="run without CUDA (to check the script)")
    p.add_argument("--output-json", type=Path, default=Path("docs/gpu.json"))
    p.add_argument("--results", type=Path, default=RESULTS, help="markdown file to update")
    p.add_argument("--print-only", action="store_true", help="print the section, write no results file")
    p.add_argument("--render-only", type=Path, nargs="+", default=None,
                   help="render the section from these JSON files (one table each)")
    return p.parse_args(argv)


def environment() -> dict:
    import onnxruntime as ort

    gpu = None
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True)
        gpu = out.stdout.strip() or None
    return {"onnxruntime": ort.__version__, "available_providers": ort.get_available_providers(),
            "gpu": gpu, "cpus": os.cpu_count(), "python": platform.python_version(),
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def start_up_check(repository: Path, model: str, providers: list[str]) -> dict:
    """Load the folder as `serve --variant auto` would, and report the variant and its check."""
    from service.serving.loading import load_runtime
    from service.settings import Settings

    started = time.perf_counter()
    runtime = load_runtime(repository / model, Settings(model_repository=repository, providers=providers))
    return {"variant": runtime.variant, "provider": runtime.provider,
            "checks": {k: c.as_dict() for k, c in runtime.checks.items()},
            "seconds": round(time.perf_counter() - started, 2)}


def request_bodies(texts: list[str], per_request: int) -> list[bytes]:
    if per_request == 1:
        return [json.dumps({"inputs": t, "truncation": True}).encode() for t in texts]
    groups = [texts[i:i + per_request] for i in range(0, len(texts) - per_request + 1, per_request)]
    return [json.dumps({"inputs": g, "truncation": True}).encode() for g in groups]


def split_cpus(load_cpus: int) -> dict:
    """The server's CPUs and the load generator's (the last `load_cpus` of this process's, -1: a
    quarter), or no pinning where there are too few to split."""
    available = sorted(os.sched_getaffinity(0))
    count = len(available) // 4 if load_cpus < 0 else load_cpus
    unpinned = {"server_cpus": None, "load_cpus": None}
    if load_cpus == 0:
        return {**unpinned, "note": "server and load generator not pinned (--load-cpus 0)"}
    if (load_cpus < 0 and len(available) < MIN_CPUS_TO_PIN) or not 0 < count < len(available):
        return {**unpinned, "note": f"{len(available)} CPUs: server and load generator not pinned, they share them"}
    server, load = available[:-count], available[-count:]
    return {"server_cpus": server, "load_cpus": load,
            "note": f"server pinned to {cpu_text(server)}"}  # (the load generator's CPUs: in its description)


def served(repository: Path, model: str, variant: str, providers: list[str], texts: list[str],
           levels: list[int], seconds: float, workers: int, log: Path, per_request: int = 1,
           pinning: dict | None = None) -> list[dict]:
    args = ["-m", "service", "--model-repository", str(repository), "--models", model,
            "--sentiment-model", model, "--variant", variant, "--providers", ",".join(providers),
            "--log-level", "warning"]
    args += ["--workers", str(workers)]  # explicit: the server's default is one worker per core
    bodies = request_bodies(texts, per_request)
    rows = []
    pinning = pinning or {}
    load = {"cpus": tuple(pinning["load_cpus"])} if pinning.get("load_cpus") else {}
    with python_server(args, log, cpus=pinning.get("server_cpus")) as server:
        url = server.url
        closed_loop(f"{url}/v1/sentiment", bodies, max(levels), 2.0, **load)  # warm-up
        for level in levels:
            result = closed_loop(f"{url}/v1/sentiment", bodies, level, seconds, **load)
            print(f"  {variant} workers={workers} c={level:<4} {result.throughput * per_request:9.1f} texts/s  "
                  f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  errors {result.errors}", flush=True)
            rows.append({"variant": variant, "workers": workers, "texts_per_s": result.throughput * per_request,
                         **result.as_dict()})
    return rows


def measure(args: argparse.Namespace) -> dict:
    import onnxruntime as ort

    providers = [p for p in args.providers.split(",") if p]
    if CUDA not in ort.get_available_providers() and not args.allow_cpu:
        raise SystemExit(f"{CUDA} is not available here (onnxruntime {ort.__version__} has "
                         f"{ort.get_available_providers()}); install onnxruntime-gpu, or pass --allow-cpu")
    if args.model_folder is None or args.data is None:
        raise SystemExit("--model-folder and --data are required")
    folder = args.model_folder.resolve()
    repository, model = folder.parent, folder.name
    texts = read_sentences(args.data, args.limit)
    levels = [int(c) for c in args.concurrency.split(",")]
    result = {"environment": environment(), "model_folder": str(folder), "texts": len(texts),
              "providers": providers, "concurrency": levels, "seconds": args.seconds,
              "texts_per_request": args.texts_per_request}
    print("start-up check ...", flush=True)
    result["check"] = start_up_check(repository, model, providers)
    print(json.dumps(result["check"], indent=1), flush=True)
    result["offline"] = []
    for variant in ("fp32", "fp16"):
        for batch in sorted({32, args.batch}):
            row = offline_throughput(repository, model, texts, batch, 0, variant)
            print(f"  offline {variant} batch {batch}: {row['texts_per_s']} texts/s on {row['provider']}", flush=True)
            result["offline"].append(row)
    result["served"] = []
    pinning = result["pinning"] = split_cpus(args.load_cpus)
    print(pinning["note"], flush=True)
    with tempfile.TemporaryDirectory() as work:
        for variant in ("fp32", "fp16"):
            result["served"] += served(repository, model, variant, providers, texts, levels, args.seconds, 1,
                                       Path(work) / f"{variant}.log", args.texts_per_request, pinning)
        for workers in [int(w) for w in args.workers.split(",") if w]:
            result["served"] += served(repository, model, "fp16", providers, texts, levels, args.seconds,
                                       workers, Path(work) / f"w{workers}.log", args.texts_per_request, pinning)
    result["load_generator"] = describe(result["served"])
    return result


def best_offline(result: dict, variant: str) -> dict:
    return max((r for r in result["offline"] if r["variant"] == variant), key=lambda r: r["texts_per_s"])


def _texts_per_s(row: dict) -> float:
    return row.get("texts_per_s", row["throughput"])  # runs of one text per request: the same


def render_run(result: dict) -> list[str]:
    env, check = result["environment"], result["check"]
    per_request = result.get("texts_per_request", 1)
    workers = max(r["workers"] for r in result["served"])
    levels = ",".join(str(c) for c in result["concurrency"])
    shape = "one sentence per request" if per_request == 1 else f"{per_request} sentences per request"
    lines = [
        f"### {shape.capitalize()}, {'one worker' if workers == 1 else f'up to {workers} workers'}",
        "",
        f"Measured {env['measured_at']} on {env['gpu'] or 'no GPU'} ({env['cpus']} CPUs), onnxruntime "
        f"{env['onnxruntime']}, by `python -m bench.gpu.check --model-folder {Path(result['model_folder']).name} "
        f"--data dev.tsv --texts-per-request {per_request} --workers {workers} --concurrency {levels} "
        f"--seconds {result['seconds']:g}`: {result['texts']} SST-2 dev "
        f"sentences, {shape} to `POST /v1/sentiment`, closed loop from "
        f"{result.get('load_generator', OLD_GENERATOR)} on the same host"
        f"{'; ' + result['pinning']['note'] if 'pinning' in result else ''}, {result['seconds']:g} s per level. "
        f"{result.get('note', '')}".rstrip(),
        "",
        f"- Start-up (`--variant auto`, providers {', '.join(result['providers'])}): variant "
        f"**{check['variant']}** on {check['provider']} ({check['seconds']} s to load and check).",
    ]
    for key, c in check["checks"].items():
        lines.append(f"- Start-up check of {key} against {c['against']}: **{c['status']}**, {c['examples']} "
                     f"validation inputs, max |diff| {c['max_abs_diff']}, agreement {c['agreement']}.")
    lines += ["", "| variant | offline batch | offline texts/s | provider |", "|---|---:|---:|---|"]
    for r in result["offline"]:
        lines.append(f"| {r['variant']} | {r['batch']} | {r['texts_per_s']:.1f} | {r['provider']} |")
    lines += ["", "| variant | workers | concurrency | req/s | texts/s | p50 ms | p99 ms | errors | share of best offline |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["served"]:
        share = _texts_per_s(r) / best_offline(result, r["variant"])["texts_per_s"]
        lines.append(f"| {r['variant']} | {r['workers']} | {r['concurrency']} | {r['throughput']:.1f} | "
                     f"{_texts_per_s(r):.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {share:.0%} |")
    fp16 = [r for r in result["served"] if r["variant"] == "fp16"]
    if fp16:
        best = max(fp16, key=_texts_per_s)
        offline = best_offline(result, "fp16")["texts_per_s"]
        share = _texts_per_s(best) / offline
        verdict = "met" if share >= TARGET_SHARE else "NOT met"
        lines += ["", f"- Best served fp16: {_texts_per_s(best):.1f} texts/s (workers {best['workers']}, "
                      f"c={best['concurrency']}) = {share:.0%} of offline fp16 ({offline:.1f} texts/s); "
                      f"target >= {TARGET_SHARE:.0%}: {verdict}."]
    return lines


def render(results: list[dict]) -> str:
    lines = [HEADING, ""]
    for result in results:
        lines += render_run(result) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.render_only is not None:
        results = [json.loads(path.read_text()) for path in args.render_only]
    else:
        results = [measure(args)]
        write_json(args.output_json, results[0], indent=1)
    section = render(results)
    print(section)
    if not args.print_only:
        write_section(HEADING, section, args.results)


if __name__ == "__main__":
    main()
