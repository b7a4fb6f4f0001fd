"""Entity F1 of a token-classification model as the service answers it (benchmark, not a test):

    python -m bench.serving.entity_f1 --model-folder models/wikiann --validation RUN/student/validation_tokens.jsonl

Serves the folder (`python -m service`, each variant in turn), sends the validation sentences to
`POST /v1/token-classification` as text (the words joined by single spaces, 32 texts a request,
aggregation `first`), turns the entities back into one IOB2 tag per word (a word belongs to an
entity when it starts inside the entity's character span) and scores them with the same
entity P/R/F1 the export uses (`distill.tasks.token_classification.metrics`). Prints the served
scores next to the ones the export recorded in the manifest for that variant.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.harness.client import post_json
from bench.harness.server import python_server
from distill.tasks.token_classification.metrics import entity_scores

TEXTS_PER_REQUEST = 32


def sentences(path: Path, limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit]


def as_text(words: list[str]) -> tuple[str, list[int]]:
    """The words joined by single spaces, and each word's start offset in that text."""
    starts, offset = [], 0
    for word in words:
        starts.append(offset)
        offset += len(word) + 1
    return " ".join(words), starts


def tags_from_entities(starts: list[int], found: list[dict]) -> list[str]:
    """One IOB2 tag per word from the service's grouped entities."""
    tags = ["O"] * len(starts)
    for entity in found:
        inside = [i for i, start in enumerate(starts) if entity["start"] <= start < entity["end"]]
        for position, i in enumerate(inside):
            tags[i] = ("B-" if position == 0 else "I-") + entity["entity_group"]
    return tags


def served_tags(url: str, rows: list[dict]) -> list[list[str]]:
    predicted = []
    for first in range(0, len(rows), TEXTS_PER_REQUEST):
        batch = [as_text(row["tokens"]) for row in rows[first:first + TEXTS_PER_REQUEST]]
        body = {"inputs": [text for text, _ in batch], "aggregation_strategy": "first"}
        answers = post_json(f"{url}/v1/token-classification", body, timeout=120)
        predicted.extend(tags_from_entities(starts, found) for (_, starts), found in zip(batch, answers))
    return predicted


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-folder", type=Path, required=True, help="a token-classification model folder")
    p.add_argument("--validation", type=Path, required=True,
                   help="validation_tokens.jsonl of the student the folder was exported from")
    p.add_argument("--variants", default="fp32,int8", help="comma-separated variants to serve in turn")
    p.add_argument("--limit", type=int, default=None, help="only the first N sentences")
    args = p.parse_args(argv)
    manifest = json.loads((args.model_folder / "manifest.json").read_text())
    rows = sentences(args.validation, args.limit)
    gold = [row["tags"] for row in rows]
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        repository = Path(scratch) / "models"
        repository.mkdir()
        (repository / args.model_folder.name).symlink_to(args.model_folder.resolve())
        for variant in [v.strip() for v in args.variants.split(",") if v.strip()]:
            serve = ["-m", "service", "--model-repository", str(repository), "--variant", variant]
            with python_server(serve, Path(scratch) / f"serve-{variant}.log") as server:
                url = server.url
                scores = entity_scores(gold, served_tags(url, rows))
            recorded = manifest["variants"][variant]["validation"].get("entity_f1")
            results[variant] = {"served": scores, "recorded_entity_f1": recorded}
            print(f"{variant}: served entity F1 {scores['entity_f1']:.4f} (P {scores['entity_precision']:.4f}, "
                  f"R {scores['entity_recall']:.4f}) on {len(rows)} sentences; the export recorded {recorded}")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
