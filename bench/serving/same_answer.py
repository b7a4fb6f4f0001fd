"""Same input, same answer through the server: held-out sentences sent one at a time, then again
concurrently (each request one sentence, so the batcher mixes them with others), and compared.

    python -m bench.serving.same_answer --model-repository models --models sentiment,embeddings

For a classifier: label flips and the largest |score difference| over every label; for a
sentence-embedding model: the lowest cosine of a sentence's vector with itself. The server runs
as `python -m service` with its defaults (the variant auto picks), or `--variant`.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench.harness.client import get_json, post_json
from bench.harness.paths import SHARED_DATA
from bench.harness.results import RESULTS, command_line, publish
from bench.harness.server import python_server

HEADING = "## Same input, same answer (through the server)"


def held_out(path: Path, count: int, extra: Path | None) -> list[str]:
    """`count` sentences: every row of `path` (a TSV with a `sentence` column), then sentences of
    at least eight words from `extra` until there are enough."""
    def rows(file: Path) -> list[str]:
        with open(file, encoding="utf-8") as handle:
            return [r["sentence"] for r in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]

    texts = rows(path)[:count]
    if len(texts) < count and extra is not None:
        texts += [t for t in rows(extra) if len(t.split()) >= 8][: count - len(texts)]
    return texts


def caller(url: str, model: dict) -> Callable[[str], np.ndarray]:
    """One sentence -> the model's answer as a vector: scores by label, or the embedding."""
    if model["task"] == "feature-extraction":
        def embed(text: str) -> np.ndarray:
            body = {"model": model["name"], "input": text, "truncation": True}
            return np.array(post_json(f"{url}/v1/embeddings", body)["data"][0]["embedding"])

        return embed
    labels = model["labels"]

    def classify(text: str) -> np.ndarray:
        body = {"model": model["name"], "inputs": [text], "top_k": len(labels), "truncation": True}
        answer = post_json(url + model["endpoint"], body)[0]
        scores = {entry["label"]: entry["score"] for entry in answer}
        return np.array([scores[label] for label in labels])

    return classify


def compare(task: str, alone: list[np.ndarray], mixed: list[np.ndarray]) -> dict[str, Any]:
    if task == "feature-extraction":
        cosines = [float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) for a, b in zip(alone, mixed)]
        return {"min_cosine": min(cosines), "median_cosine": float(np.median(cosines))}
    diffs = [float(np.max(np.abs(a - b))) for a, b in zip(alone, mixed)]
    flips = sum(int(np.argmax(a) != np.argmax(b)) for a, b in zip(alone, mixed))
    return {"label_flips": flips, "max_abs_score_diff": max(diffs), "median_abs_score_diff": float(np.median(diffs))}


def measure(url: str, model: dict, texts: list[str], concurrency: int, seed: int) -> dict[str, Any]:
    call = caller(url, model)
    alone = [call(text) for text in texts]
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(lambda i: call(texts[i]), order))
    mixed: list[np.ndarray] = [np.empty(0)] * len(texts)
    for i, answer in zip(order, answers):
        mixed[i] = answer
    return {"model": model["name"], "task": model["task"], "variant": model["variant"], "texts": len(texts),
            "concurrency": concurrency, **compare(model["task"], alone, mixed)}


def section(rows: list[dict], command: str) -> str:
    lines = [HEADING, "", f"`{command}`", "",
             "| model | variant | texts | concurrency | label flips | max \\|score diff\\| | min cosine |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        flips = r.get("label_flips", "-")
        diff = f"{r['max_abs_score_diff']:.2g}" if "max_abs_score_diff" in r else "-"
        cosine = f"{r['min_cosine']:.6f}" if "min_cosine" in r else "-"
        lines.append(f"| {r['model']} | {r['variant']} | {r['texts']} | {r['concurrency']} | {flips} | {diff} "
                     f"| {cosine} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serving.same_answer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-repository", type=Path, required=True)
    parser.add_argument("--models", default=None, help="comma-separated model names (default: every folder)")
    parser.add_argument("--variant", default=None, help="the server's --variant (default: auto)")
    parser.add_argument("--accept-batch-dependent", action="store_true", help="pass the server's option of that name")
    parser.add_argument("--texts", type=Path, default=SHARED_DATA / "sst2" / "dev.tsv")
    parser.add_argument("--extra-texts", type=Path, default=SHARED_DATA / "sst2" / "train.tsv")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    parser.add_argument("--publish", action="store_true", help=f"write the section '{HEADING[3:]}' of RESULTS.md")
    args = parser.parse_args(argv)
    texts = held_out(args.texts, args.count, args.extra_texts if args.extra_texts.is_file() else None)
    server_args = ["-m", "service", "--model-repository", str(args.model_repository)]
    server_args += ["--models", args.models] if args.models else []
    server_args += ["--variant", args.variant] if args.variant else []
    server_args += ["--accept-batch-dependent"] if args.accept_batch_dependent else []
    with tempfile.TemporaryDirectory() as scratch, python_server(server_args, Path(scratch) / "server.log") as server:
        models = get_json(server.url + "/v1/models")["models"]
        rows = [measure(server.url, m, texts, args.concurrency, args.seed) for m in models]
    for row in rows:
        print(row)
    text = section(rows, command_line("bench.serving.same_answer", argv))
    print(text)
    publish(HEADING, text, RESULTS if args.publish else None, args.json, rows)


if __name__ == "__main__":
    main()
