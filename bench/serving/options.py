"""Serving configurations side by side (benchmark, not a test): the same model, the same load,
servers started one at a time and in alternation, medians over rounds.

    python -m bench.serving.options --model-folder runs/sst2/export-chain/sentiment \\
        --system "before=rev:1d48bd5" --system "now" --system "2 workers=--workers 2" \\
        --concurrency 1,16,64 --seconds 20 --rounds 3 [--heading "## Serving options (SST-2)"]

A system is `LABEL=[rev:GIT_REVISION] [serve flags]`: the server runs from the working tree, or
from a checkout of that revision (a git worktree under --work), with those flags. `--tiny` serves
a random 2-layer, 32-wide classifier instead (the model costs almost nothing, so what is measured
is the server's own cost per request). For each system and concurrency: requests/s, p50/p99,
server CPU per request (the process tree's CPU time over the run), and from the server's own
metrics the mean batch size, the padding share of the batches and the model time per item. The
offline ONNX Runtime throughput of the same sentences (sorted by length, batches of 32, no HTTP)
is measured too, and each result is given as a share of it. Writes JSON, and with --heading a
section of docs/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench.harness.client import get_text
from bench.harness.paths import ROOT
from bench.harness.results import RESULTS, command_line, write_json, write_section
from bench.harness.server import python_server
from bench.loadgen import closed_loop, describe, sentence_bodies
from bench.serving.load import DEFAULT_DATA, build_tiny, offline_throughput, read_sentences


@dataclass(frozen=True)
class System:
    label: str
    revision: str | None  # None: the working tree
    flags: list[str]


def parse_system(spec: str) -> System:
    label, _, rest = spec.partition("=")
    words = shlex.split(rest)
    revision = None
    if words and words[0].startswith("rev:"):
        revision = words.pop(0)[4:]
    return System(label.strip(), revision, words)


def checkout(revision: str, work: Path) -> Path:
    """A git worktree of `revision` (made once, reused)."""
    target = work / f"rev-{revision}"
    if not target.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(target), revision], cwd=ROOT, check=True,
                       capture_output=True)
    return target


def process_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the workers of `--workers`)."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


METRIC = re.compile(r'^(serve_[a-z_]+)\{model="([^"]*)"\} ([0-9.e+-]+)$')


def batch_counters(url: str, model: str) -> dict[str, float]:
    """The server's cumulative batching counters for `model`."""
    text = get_text(f"{url}/metrics")
    wanted = {"serve_batch_size_items_count": "batches", "serve_items_processed_total": "items",
              "serve_batch_padded_tokens_sum": "padded", "serve_tokens_processed_total": "real",
              "serve_inference_duration_seconds_sum": "inference_s"}
    out = dict.fromkeys(wanted.values(), 0.0)
    for line in text.splitlines():
        match = METRIC.match(line)
        if match and match.group(2) == model and match.group(1) in wanted:
            out[wanted[match.group(1)]] = float(match.group(3))
    return out


def batch_stats(before: dict[str, float], after: dict[str, float]) -> dict[str, float | None]:
    d = {k: after[k] - before[k] for k in after}
    if not d["batches"] or not d["items"]:
        return {"mean_batch": None, "padding_share": None, "model_ms_per_item": None}
    return {"mean_batch": round(d["items"] / d["batches"], 2),
            "padding_share": round(1 - d["real"] / d["padded"], 3) if d["padded"] else None,
            "model_ms_per_item": round(1000 * d["inference_s"] / d["items"], 3)}


def run_system(system: System, repository: Path, model: str, bodies: list[bytes], levels: list[int],
               seconds: float, work: Path) -> list[dict]:
    cwd = checkout(system.revision, work) if system.revision else ROOT
    args = ["-m", "service", "--model-repository", str(repository), "--models", model,
            "--sentiment-model", model, "--log-level", "warning", *system.flags]
    rows = []
    log = work / f"{re.sub(r'[^A-Za-z0-9]+', '-', system.label)}.log"
    with python_server(args, log, cwd=cwd) as server:
        url, process = server.url, server.process
        closed_loop(f"{url}/v1/sentiment", bodies, max(levels), 3.0)  # warm-up
        for level in levels:
            counters, cpu = batch_counters(url, model), process_cpu(process.pid)
            result = closed_loop(f"{url}/v1/sentiment", bodies, level, seconds)
            cpu_ms = 1000 * (process_cpu(process.pid) - cpu) / max(1, result.requests)
            row = {"system": system.label, **result.as_dict(), "cpu_ms_per_request": round(cpu_ms, 3),
                   **batch_stats(counters, batch_counters(url, model))}
            print(f"  {system.label:<24} c={level:<3} {row['throughput']:8.1f} req/s  p50 {row['p50_ms']:7.2f}  "
                  f"p99 {row['p99_ms']:7.2f} ms  cpu {cpu_ms:.3f} ms/req  batch {row['mean_batch']}  "
                  f"padding {row['padding_share']}  model {row['model_ms_per_item']} ms/item", flush=True)
            rows.append(row)
    return rows


def medians(rows: list[dict]) -> list[dict]:
    """One row per (system, concurrency): the median of each number over the rounds."""
    grouped: dict[tuple, list[dict]] = {}
    for row in rows:
        grouped.setdefault((row["system"], row["concurrency"]), []).append(row)
    out = []
    for (system, level), group in grouped.items():
        merged = {"system": system, "concurrency": level, "rounds": len(group)}
        for key in ("throughput", "p50_ms", "p99_ms", "cpu_ms_per_request", "mean_batch", "padding_share",
                    "model_ms_per_item", "errors"):
            values = [g[key] for g in group if g.get(key) is not None]
            merged[key] = round(statistics.median(values), 3) if values else None
        out.append(merged)
    return out


def render(result: dict, heading: str) -> str:
    offline = result["offline"]["texts_per_s"]
    lines = [heading, "", f"Measured {result['measured_at']} on {result['cpus']} CPUs, `{result['command']}`: "
             f"{result['model']}, {result['texts']} SST-2 dev sentences, one per request to "
             f"`POST /v1/sentiment`, closed loop from {result.get('load_generator', 'wrk (1 thread)')} on the same "
             f"machine, {result['seconds']:g} s per level, servers one at a time in alternation, medians of "
             f"{result['rounds']} rounds. Offline ONNX "
             f"Runtime on the same sentences (sorted by length, batches of 32, no HTTP): {offline:.1f} texts/s.",
             "", "| system | flags | concurrency | req/s | share of offline | p50 ms | p99 ms | server CPU ms/req | "
             "mean batch | padding share | model ms/item | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    flags = {s["label"]: (f"rev {s['revision']} " if s["revision"] else "") + " ".join(s["flags"])
             for s in result["systems"]}
    for r in sorted(result["medians"], key=lambda r: (r["concurrency"], list(flags).index(r["system"]))):
        def cell(key, fmt):
            return format(r[key], fmt) if r[key] is not None else "–"
        lines.append(f"| {r['system']} | {flags[r['system']] or '–'} | {r['concurrency']} | {r['throughput']:.1f} | "
                     f"{r['throughput'] / offline:.0%} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                     f"{cell('cpu_ms_per_request', '.3f')} | {cell('mean_batch', '.1f')} | "
                     f"{cell('padding_share', '.3f')} | {cell('model_ms_per_item', '.3f')} | {r['errors']:.0f} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-folder", type=Path, help="model folder to serve (its parent is the repository)")
    p.add_argument("--tiny", action="store_true", help="serve a random 2-layer, 32-wide classifier instead")
    p.add_argument("--system", action="append", help="LABEL=[rev:REV] [serve flags]; repeatable")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SST-2 dev.tsv")
    p.add_argument("--concurrency", default="1,16,64")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--offline-threads", type=int, default=0, help="ONNX Runtime threads offline (0: default)")
    p.add_argument("--work", type=Path, default=ROOT / "bench" / "out" / "serving_options")
    p.add_argument("--output-json", type=Path, default=None)
    p.add_argument("--heading", default=None, help="write the table under this heading of --results")
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--render-only", type=Path, default=None, help="write the section from this JSON and stop")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.render_only is not None:
        section = render(json.loads(args.render_only.read_text()), args.heading or "## Serving options")
        print(section)
        if args.heading:
            write_section(args.heading, section, args.results)
        return
    if not args.system:
        raise SystemExit("give at least one --system")
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.tiny:
        repository, _ = build_tiny(Path(tempfile.mkdtemp(dir=args.work)))
        model, label = "sentiment", "random 2-layer 32-wide classifier (near-free model)"
    elif args.model_folder is not None:
        repository, model = args.model_folder.resolve().parent, args.model_folder.name
        label = f"model folder `{args.model_folder}`"
    else:
        raise SystemExit("give --model-folder or --tiny")
    texts = read_sentences(args.data, None)
    bodies = sentence_bodies(texts)
    systems = [parse_system(s) for s in args.system]
    levels = [int(c) for c in args.concurrency.split(",")]
    offline = offline_throughput(repository, model, texts, 32, args.offline_threads, "auto")
    print(f"offline: {offline['texts_per_s']} texts/s ({offline['variant']})", flush=True)
    rows = []
    for round_index in range(args.rounds):
        order = systems if round_index % 2 == 0 else systems[::-1]
        for system in order:
            rows += run_system(system, repository, model, bodies, levels, args.seconds, args.work)
    result = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "command": command_line("bench.serving.options", argv),
              "model": label, "texts": len(texts), "seconds": args.seconds, "rounds": args.rounds,
              "offline": offline, "systems": [s.__dict__ for s in systems], "rows": rows, "medians": medians(rows),
              "load_generator": describe(rows)}
    output = args.output_json or args.work / "result.json"
    write_json(output, result, indent=1)
    section = render(result, args.heading or "## Serving options")
    print(section)
    if args.heading:
        write_section(args.heading, section, args.results)


if __name__ == "__main__":
    main()
