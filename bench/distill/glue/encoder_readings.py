"""Benchmark (not a test): what the untrained `minilm` encoder knows of STS-B under three readings
of a sentence: the mean of its token states (how it was trained), its [CLS] state, and the [CLS]
state through BERT's pooler (what a new sequence-classification head reads). Spearman of the
cosine of the two sentences' vectors with the gold scores on the dev pairs; prints one JSON row.

    .venv/bin/python -m bench.distill.glue.encoder_readings [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from transformers import AutoModel

from distill.tasks.embeddings.sts import read_sts
from distill.tasks.regression.metrics import spearman
from distill.tasks.text.heads import mean_of_tokens
from distill.teacher import load_tokenizer, resolve_teacher


def readings(model, tokenizer, texts: list[str], batch: int = 64) -> dict[str, torch.Tensor]:
    out: dict[str, list[torch.Tensor]] = {"mean": [], "cls": [], "pooler": []}
    for start in range(0, len(texts), batch):
        encoded = tokenizer(texts[start:start + batch], padding=True, truncation=True, max_length=128,
                            return_tensors="pt")
        with torch.no_grad():
            states = model(**encoded)
        out["mean"].append(mean_of_tokens(states.last_hidden_state, encoded["attention_mask"]))
        out["cls"].append(states.last_hidden_state[:, 0])
        out["pooler"].append(states.pooler_output)
    return {key: torch.cat(value) for key, value in out.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.distill.glue.encoder_readings", description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--teacher", default="minilm")
    args = parser.parse_args(argv)
    location = resolve_teacher(args.teacher)
    model, tokenizer = AutoModel.from_pretrained(location).eval(), load_tokenizer(location)
    pairs = read_sts(args.data / "glue" / "STS-B" / "dev.tsv")
    started = time.perf_counter()
    first, second = readings(model, tokenizer, pairs.first), readings(model, tokenizer, pairs.second)
    row = {key: round(float(spearman(pairs.scores, torch.nn.functional.cosine_similarity(
        first[key], second[key]).numpy())), 4) for key in first}
    row.update({"pooler_output_abs_mean": round(float(first["pooler"].abs().mean()), 4),
                "cls_state_abs_mean": round(float(first["cls"].abs().mean()), 4), "pairs": len(pairs.scores),
                "seconds": round(time.perf_counter() - started, 1),
                "loadavg": Path("/proc/loadavg").read_text().split()[:3],
                "command": "python -m bench.distill.glue.encoder_readings " + " ".join(sys.argv[1:])})
    print(json.dumps(row))


if __name__ == "__main__":
    main()
