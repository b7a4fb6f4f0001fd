"""Benchmark (not a test): the built-in teacher all-MiniLM-L6-v2 (a sentence-transformers folder, 6
layers) imported with `distill import` and served, against sentence-transformers' own `encode`.

    python -m bench.serving.imported_teacher [--data-dir ../shared/data] [--output runs/imported-teacher]
        [--sentences 200] [--results docs/RESULTS.md] [--json docs/imported_teacher.json]

Measures: the import's wall time (the machine's load average beside it); per variant served (fp32,
static INT8), the cosine of each of `--sentences` movie-review sentences' served embedding with
`encode`'s (lowest and mean), and STS-B dev Spearman of the served embeddings beside `encode`'s.
Targets (#40): cosine >= 0.9999 and the same Spearman to 3 decimals in fp32; INT8 within 0.5 point;
the import of a 6-layer checkpoint in 2 minutes or less on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.harness.client import post_json
from bench.harness.paths import ROOT, SHARED_DATA
from bench.harness.results import RESULTS, command_line, publish
from bench.harness.server import python_server

HEADING = "## An imported checkpoint served: the built-in teacher vs sentence-transformers"
STS_FILE = Path("glue") / "STS-B" / "dev.tsv"
BATCH = 32  # texts per /v1/embeddings request


def import_teacher(target: Path, log: Path) -> dict:
    """`distill import --model minilm` into `target`; its wall time and the load average before it."""
    load = os.getloadavg()
    start = time.perf_counter()
    with open(log, "w") as handle:
        subprocess.run([sys.executable, "-m", "distill.cli", "import", "--model", "minilm", "--output-dir",
                        str(target), "--overwrite"], cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, check=True)
    return {"seconds": round(time.perf_counter() - start, 1), "load_average_before": [round(x, 2) for x in load],
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def served(url: str, model: str, texts: list[str]) -> np.ndarray:
    rows = []
    for start in range(0, len(texts), BATCH):
        body = {"model": model, "input": texts[start:start + BATCH], "truncation": True}
        rows += [d["embedding"] for d in post_json(f"{url}/v1/embeddings", body, timeout=120)["data"]]
    return np.asarray(rows, dtype=np.float64)


def measure(data_dir: Path, output: Path, count: int) -> dict:
    from sentence_transformers import SentenceTransformer

    from distill.importer.samples import movie_sentences
    from distill.tasks.embeddings.sts import cosine_rows, read_sts, sts_spearman
    from distill.teacher import resolve_teacher

    output.mkdir(parents=True, exist_ok=True)
    timing = import_teacher(output / "models" / "minilm", output / "import.log")
    sentences = movie_sentences(count + 1000)[1000:]  # past the import's validation and calibration inputs
    pairs = read_sts(data_dir / STS_FILE)
    encoder = SentenceTransformer(resolve_teacher("minilm"), device="cpu")
    reference = encoder.encode(sentences, batch_size=BATCH)
    reference_sts = sts_spearman(pairs, encoder.encode(pairs.sentences(), batch_size=BATCH))
    rows = {}
    for variant in ("fp32", "int8"):
        args = ["-m", "service", "--model-repository", str(output / "models"), "--variant", variant]
        with python_server(args, output / f"serve-{variant}.log") as server:
            cosines = cosine_rows(served(server.url, "minilm", sentences), reference)
            spearman = sts_spearman(pairs, served(server.url, "minilm", pairs.sentences()))
        rows[variant] = {"min_cosine": round(float(cosines.min()), 6), "mean_cosine": round(float(cosines.mean()), 6),
                         "sts_spearman": round(float(spearman), 4),
                         "spearman_points_from_encode": round(100 * (float(spearman) - reference_sts), 2)}
    return {"import": timing, "sentences": len(sentences), "sts_pairs": len(pairs),
            "encode_sts_spearman": round(float(reference_sts), 4), "served": rows, "cores": os.cpu_count()}


def section(result: dict, command: str) -> str:
    timing, rows = result["import"], result["served"]
    lines = [HEADING, "", f"Command: `{command}`", "",
             f"`distill import --model minilm` (all-MiniLM-L6-v2, 6 layers, hidden 384; fp32, static INT8 and fp16 "
             f"built and checked, latency measured) took **{timing['seconds']} s** on {result['cores']} cores "
             f"(load average {timing['load_average_before'][0]} before, {timing['load_average_after'][0]} after).", "",
             f"sentence-transformers' `encode` of the same folder: STS-B dev Spearman "
             f"{result['encode_sts_spearman']:.4f} ({result['sts_pairs']} pairs).", "",
             "| served variant | lowest cosine to `encode` | mean cosine | STS-B dev Spearman | vs `encode` (points) |",
             "|---|---|---|---|---|"]
    for variant, row in rows.items():
        lines.append(f"| {variant} | {row['min_cosine']:.6f} | {row['mean_cosine']:.6f} | {row['sts_spearman']:.4f} "
                     f"| {row['spearman_points_from_encode']:+.2f} |")
    lines += ["", f"Cosines over {result['sentences']} movie-review sentences the import did not check or calibrate on."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "imported-teacher")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "imported_teacher.json")
    args = parser.parse_args(argv)
    result = measure(args.data_dir, args.output, args.sentences)
    text = section(result, command_line("bench.serving.imported_teacher", argv))
    print(text)
    publish(HEADING, text, args.results, args.json, result)


if __name__ == "__main__":
    main()
