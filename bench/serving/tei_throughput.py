"""Benchmark (not a test): text-embeddings-inference's routes against /v1 on the same server, the
same models and the same texts, in one run: `POST /models/C/predict` against `POST /v1/classify`
on the classifier C, and `POST /models/E/embed` against `POST /v1/embeddings` on the embedding
model E, one text per request, closed loop at `--concurrency` connections (bench/loadgen). The
routes go through the same batcher; the target (#34) is TEI's within 5% of /v1's requests/s.
Rounds alternate the order of each pair, so that drift of the machine falls on both; the load
average is recorded beside every row.

    python -m bench.serving.tei_throughput --model-repository models --classifier sentiment --embedding embeddings \
        [--data ../shared/data/sst2/dev.tsv] [--concurrency 64] [--seconds 15] [--rounds 2] \
        [--results docs/RESULTS.md] [--json docs/tei_throughput.json]
    python -m bench.serving.tei_throughput --tiny   # the run end to end on tiny random models (no timing)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from bench.harness.results import command_line, publish
from bench.harness.server import python_server
from bench.loadgen import closed_loop
from bench.serving.load import DEFAULT_DATA, read_sentences

HEADING = "## text-embeddings-inference's routes vs /v1 (same server, same batcher)"
FALLBACK = ["a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés.",
            "an utterly charming and hilarious film that reminded me why i love movies.",
            "it's a tedious mess, and a long one."]


def pairs(classifier: str, embedding: str, texts: list[str]) -> dict[str, list[tuple[str, list[bytes]]]]:
    """For each comparison, the /v1 route and TEI's, each with its bodies (one text each)."""
    def bodies(make) -> list[bytes]:
        return [json.dumps(make(t)).encode() for t in texts]

    return {
        "predict": [("/v1/classify", bodies(lambda t: {"model": classifier, "inputs": t, "truncation": True})),
                    (f"/models/{classifier}/predict", bodies(lambda t: {"inputs": t, "truncate": True}))],
        "embed": [("/v1/embeddings", bodies(lambda t: {"model": embedding, "input": t, "truncation": True})),
                  (f"/models/{embedding}/embed", bodies(lambda t: {"inputs": t, "truncate": True}))],
    }


def measure(url: str, comparisons: dict, concurrency: int, seconds: float, warmup_s: float, rounds: int) -> list[dict]:
    rows = []
    for name, routes in comparisons.items():
        for path, bodies in routes:
            closed_loop(url + path, bodies, concurrency, warmup_s)
        for round_ in range(rounds):
            for path, bodies in routes if round_ % 2 == 0 else routes[::-1]:
                load = os.getloadavg()[0]
                result = closed_loop(url + path, bodies, concurrency, seconds)
                rows.append({"comparison": name, "route": path, "round": round_ + 1, "load_average": round(load, 2),
                             "requests_per_s": round(result.throughput, 1), "p50_ms": result.p50_ms,
                             "p99_ms": result.p99_ms, "errors": result.errors})
                print(f"  {path:<32} round {round_ + 1}: {result.throughput:8.1f} req/s  p99 {result.p99_ms:7.2f} ms  "
                      f"errors {result.errors}  (load {load:.2f})", flush=True)
    return rows


def summary(rows: list[dict]) -> list[dict]:
    """Per comparison: the mean requests/s of each route over the rounds, and TEI's share of /v1's."""
    out = []
    for name in dict.fromkeys(r["comparison"] for r in rows):
        means = {}
        for row in (r for r in rows if r["comparison"] == name):
            means.setdefault(row["route"], []).append(row["requests_per_s"])
        (v1, v1_rates), (tei, tei_rates) = list(means.items())
        v1_mean, tei_mean = sum(v1_rates) / len(v1_rates), sum(tei_rates) / len(tei_rates)
        out.append({"comparison": name, "v1": v1, "tei": tei, "v1_requests_per_s": round(v1_mean, 1),
                    "tei_requests_per_s": round(tei_mean, 1),
                    "tei_share_of_v1": round(tei_mean / v1_mean, 3) if v1_mean else None})
    return out


def section(args, totals: list[dict], rows: list[dict]) -> str:
    lines = [HEADING, "", f"`{command_line('bench.serving.tei_throughput')}`; {args.concurrency} connections, "
             f"{args.seconds:g} s per route and round, {args.rounds} rounds in alternating order, one text per request; "
             f"load average {min(r['load_average'] for r in rows):.2f} to {max(r['load_average'] for r in rows):.2f}.",
             "", "| comparison | /v1 route | req/s | TEI route | req/s | TEI / v1 |", "|---|---|---:|---|---:|---:|"]
    for t in totals:
        lines.append(f"| {t['comparison']} | `{t['v1']}` | {t['v1_requests_per_s']:,.1f} | `{t['tei']}` | "
                     f"{t['tei_requests_per_s']:,.1f} | {t['tei_share_of_v1']:.3f} |")
    return "\n".join(lines) + "\n"


def build_tiny(root: Path) -> Path:
    import warnings

    from tests.service.model_folders import SENTIMENT_LABELS, build_classifier_folder, build_embedding_folder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_classifier_folder(root / "sentiment", SENTIMENT_LABELS)
        build_embedding_folder(root / "embeddings")
    return root


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="TEI's /predict and /embed against /v1 on one server.")
    p.add_argument("--model-repository", type=Path, help="The repository the server serves.")
    p.add_argument("--classifier", default="sentiment")
    p.add_argument("--embedding", default="embeddings")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SST-2 dev.tsv (sentence<TAB>label).")
    p.add_argument("--limit", type=int, default=None, help="Use only the first N sentences.")
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--warmup-seconds", type=float, default=3.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--server-args", default="", help="Extra flags for the service.")
    p.add_argument("--results", type=Path, default=None, help="Markdown file to put the section into.")
    p.add_argument("--json", type=Path, default=None, help="Where the raw rows go.")
    p.add_argument("--tiny", action="store_true", help="End to end on tiny random models built in a temp dir.")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="tei-throughput-"))
    if args.tiny:
        args.model_repository = build_tiny(work / "models")
        args.seconds, args.warmup_seconds, args.rounds, args.concurrency = 1.0, 0.5, 2, 8
    texts = read_sentences(args.data, args.limit) if args.data.exists() and not args.tiny else FALLBACK
    serve = ["-m", "service", "--model-repository", str(args.model_repository), "--models",
             f"{args.classifier},{args.embedding}", "--log-level", "warning", *args.server_args.split()]
    with python_server(serve, work / "service.log") as server:
        rows = measure(server.url, pairs(args.classifier, args.embedding, texts), args.concurrency, args.seconds,
                       args.warmup_seconds, args.rounds)
    totals = summary(rows)
    text = section(args, totals, rows)
    print(text)
    publish(HEADING, text, None if args.tiny else args.results, args.json,
            {"totals": totals, "rows": rows, "cores": os.cpu_count(), "command": command_line("bench.serving.tei_throughput")})


if __name__ == "__main__":
    main()
