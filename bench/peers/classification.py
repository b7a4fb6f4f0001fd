"""Serving peers benchmark: this service vs infinity-emb and LitServe on the same model folder.

One command installs the peers (once, each in its own virtual environment under a cache folder),
serves one text-classification model folder with each system in turn, drives each with the same
closed-loop sweep (bench/loadgen) on SST-2 dev sentences, and reports req/s, p50/p99 latency, the server's
CPU time per request and how often its top label agrees with this service's:

    .venv/bin/python -m bench.peers.classification --model-folder runs/sst2/export-chain/sentiment
    .venv/bin/python -m bench.peers.classification --tiny --seconds 3 --rounds 1 --concurrency 1,16 --print-only

Systems (`--systems`, all on CPU, all on the ONNX file this service picks on CPU, INT8 as a rule):
- `service`: `python -m service` from this repository's virtual environment.
- `infinity`: infinity-emb's `v2` server, `--engine optimum` (ONNX Runtime through Hugging Face
  optimum), on a Hugging Face-style copy of the folder built in the cache (config.json written
  from the manifest and the ONNX graph, tokenizer files, the ONNX file); endpoint `/classify`.
- `infinity-torch`: the same server with `--engine torch` on the fp32 PyTorch student given by
  `--hf-student DIR` (only then).
- `litserve`: bench/peers/apps/litserve_app.py (LitServe batching, ONNX Runtime, `tokenizers`).

Only one server runs at a time (the machine has 2 cores): each round starts a system, warms it
up, runs every concurrency level, stops it, then the next system; the order of the systems turns
by one each round, and the table shows medians over rounds. Server CPU time is the user + system
time of the server's process tree (psutil) across one load run, divided by the answered requests.

Writes the raw numbers to docs/peers.json (`--output-json`) and the section
"## Serving peers (SST-2 dev)" of docs/RESULTS.md (`--results`), unless `--print-only`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.harness.paths import ROOT
from bench.harness.results import RESULTS, command_line, publish, write_section
from bench.loadgen import describe
from bench.peers.environments import DEFAULT_CACHE, ensure_env, peer_envs
from bench.peers.folders import ModelFolder, build_tiny, served_variant
from bench.peers.report import HEADING, markdown
from bench.peers.sweep import Sweep, run_rounds, summarize, system_bodies
from bench.peers.systems import ALL_SYSTEMS, System, build_systems
from bench.serving.load import DEFAULT_DATA, read_sentences


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="This service vs infinity-emb and LitServe on one model folder "
                                "(closed-loop sweep, one server at a time, medians over rounds).")
    p.add_argument("--model-folder", type=Path, help="Text-classification model folder (manifest.json, "
                   "tokenizer.json, ONNX variants).")
    p.add_argument("--tiny", action="store_true", help="Dry run on a tiny random model folder built in a "
                   "temporary directory (its PyTorch copy serves as --hf-student).")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="Where the peers' virtual environments "
                   "and model copies live (default: %(default)s).")
    p.add_argument("--systems", default=None, help=f"Comma-separated, from {', '.join(ALL_SYSTEMS)} (default: "
                   "service,infinity,litserve, plus infinity-torch with --hf-student).")
    p.add_argument("--hf-student", type=Path, help="PyTorch student checkpoint (config.json, weights, "
                   "tokenizer.json) for infinity's torch engine.")
    p.add_argument("--service-args", default="", help="Extra flags for this service, e.g. '--workers 2'.")
    p.add_argument("--variant", default="auto", help="Variant the service serves and the peers load "
                   "(auto: what the service picks on CPU, INT8 when recommended).")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SST-2 dev.tsv (sentence<TAB>label).")
    p.add_argument("--limit", type=int, default=None, help="Use only the first N sentences for the load.")
    p.add_argument("--agreement-sentences", type=int, default=200, help="Sentences sent once to every "
                   "system to compare top labels (0: all).")
    p.add_argument("--concurrency", default="1,16,64", help="Comma-separated connection counts.")
    p.add_argument("--seconds", type=float, default=20.0, help="Measured seconds per level.")
    p.add_argument("--warmup-seconds", type=float, default=3.0, help="Unmeasured load after each start.")
    p.add_argument("--rounds", type=int, default=3, help="Rounds over all systems; medians are reported.")
    p.add_argument("--ready-timeout", type=float, default=600.0, help="Seconds a server may take to start.")
    p.add_argument("--results", type=Path, default=None, help="Markdown file whose section is rewritten "
                   "(default: docs/RESULTS.md).")
    p.add_argument("--output-json", type=Path, default=None, help="Raw numbers (default: docs/peers.json).")
    p.add_argument("--print-only", action="store_true", help="Print the table; write neither file "
                   "(implied by --tiny unless --results or --output-json is given).")
    p.add_argument("--render-only", type=Path, default=None, help="Rewrite the section from this JSON and stop.")
    p.add_argument("--install-only", action="store_true", help="Install the peers' environments and stop.")
    return p.parse_args(argv)


def chosen_systems(args: argparse.Namespace) -> list[str]:
    if args.systems is None:
        names = ["service", "infinity", "litserve"] + (["infinity-torch"] if args.hf_student else [])
    else:
        names = [n.strip() for n in args.systems.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_SYSTEMS]
    if unknown or not names:
        raise SystemExit(f"--systems: unknown {unknown} (known: {', '.join(ALL_SYSTEMS)})")
    if "infinity-torch" in names and args.hf_student is None:
        raise SystemExit("--systems infinity-torch needs --hf-student DIR (the PyTorch student)")
    if args.hf_student is not None and not (args.hf_student / "config.json").is_file():
        raise SystemExit(f"--hf-student {args.hf_student}: no config.json there")
    return list(dict.fromkeys(names))


def install_only(args: argparse.Namespace, names: list[str]) -> None:
    envs = peer_envs()
    for env_name in dict.fromkeys("infinity" if n.startswith("infinity") else n for n in names):
        if env_name in envs:
            python, versions = ensure_env(args.cache, envs[env_name])
            print(f"{env_name}: {python} {versions}")


def build_report(args: argparse.Namespace, argv: list[str] | None, model: ModelFolder, texts: list[str],
                 systems: dict[str, System], raw: dict[str, Any], failed: dict[str, str], levels: list[int],
                 agreement_n: int) -> dict[str, Any]:
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command_line("bench.peers.classification", argv),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "data": str(args.data), "sentences": len(texts), "agreement_sentences": agreement_n,
        "concurrency": levels, "seconds_per_level": args.seconds, "warmup_seconds": args.warmup_seconds,
        "rounds": args.rounds, "model_folder": str(model.path), "variant": model.variant,
        "onnx_file": model.file, "precision": model.precision, "tiny": args.tiny,
        "systems": {n: {"description": s.description, "versions": s.versions,
                        "command": list(s.command)} for n, s in systems.items()},
        "failed": failed,
        "summary": summarize(raw, list(systems), levels),
        "raw": {n: {"runs": e["runs"], "labels": e.get("labels")} for n, e in raw.items()},
        "load_generator": describe([r for e in raw.values() for runs in e["runs"].values() for r in runs]),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.render_only is not None:
        text = markdown(json.loads(args.render_only.read_text()))
        print(text)
        write_section(HEADING, text, args.results or RESULTS)
        return
    args.cache = args.cache.expanduser().resolve()
    if args.install_only:
        return install_only(args, chosen_systems(args))
    levels = [int(c) for c in args.concurrency.split(",")]
    work = Path(tempfile.mkdtemp(prefix="peers-"))
    if args.tiny:
        args.model_folder, student = build_tiny(work)
        args.hf_student = args.hf_student or student
    names = chosen_systems(args)
    if args.model_folder is None:
        raise SystemExit("give --model-folder DIR (or --tiny for a dry run)")
    if not args.data.is_file():
        raise SystemExit(f"--data {args.data}: no such file")
    model = served_variant(args.model_folder.resolve(), args.variant)
    texts = read_sentences(args.data, args.limit)
    agreement_n = len(texts) if args.agreement_sentences <= 0 else min(args.agreement_sentences, len(texts))
    args.cache.mkdir(parents=True, exist_ok=True)
    systems, setup_failed = build_systems(names, args, model)
    if not systems:
        raise SystemExit(f"no system could be set up: {setup_failed}")
    bodies = {name: system_bodies(system, texts) for name, system in systems.items()}
    print(f"{len(texts)} sentences from {args.data}; {model.file} ({model.precision}); logs in {work}", flush=True)
    sweep = Sweep(levels, args.seconds, args.warmup_seconds, args.rounds, args.ready_timeout, texts[:agreement_n])
    raw, failed = run_rounds(systems, sweep, bodies, work)
    failed = {**setup_failed, **failed}
    report = build_report(args, argv, model, texts, systems, raw, failed, levels, agreement_n)
    text = markdown(report)
    print("\n" + text)
    if args.print_only or (args.tiny and args.results is None and args.output_json is None):
        return
    output_json = args.output_json or ROOT / "docs" / "peers.json"
    results = args.results or RESULTS
    publish(HEADING, text, results, output_json, report)
    print(f"wrote {output_json} and the section {HEADING!r} of {results}")


if __name__ == "__main__":
    main()
