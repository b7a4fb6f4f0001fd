"""Benchmark (not a test): distil `minilm` (all-MiniLM-L6-v2, a sentence-embedding model: mean
pooling, L2 normalisation) into a 3-layer DistilBERT sentence embedder with a recipe of
`distill.tasks.embeddings.recipe` (the one `make run EMBEDDINGS=1` builds, or the larger one), export
it, and score teacher / student / INT8 on STS-B dev, with MRPC dev as a second scored pair set.

    .venv/bin/python -m bench.distill.embeddings [--recipe default|larger] [--corpus movie-reviews|mixed]
        [--data-dir ../shared/data] [--output runs/embeddings] [--max-train-examples N] [--epochs E]
        [--rows runs/embeddings-recipes.jsonl] [--sweep runs/emb-sweep/rows.jsonl] [--results docs/RESULTS.md]

`--corpus mixed` adds the local data sets' texts (`bench.distill.transfer_corpus`, without the STS-B
and MRPC dev sentences) to the movie reviews. STS-B dev (1,500 pairs, 0-5 gold scores) is read
from DATA_DIR/glue/STS-B/dev.tsv; the quality is the Spearman correlation of the cosine similarity
of each pair's embeddings with the gold scores. Each run appends its row to `--rows`; the section
"## Sentence embeddings (STS-B)" of docs/RESULTS.md is written from all the rows there and the
settings sweep's rows (`bench.distill.embedding_sweep`). `run_embeddings` is importable.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.distill.embedding_tables import HEADING, section
from bench.distill.transfer_corpus import STS_DEV, evaluation_pairs, write_corpus
from bench.harness.results import RESULTS, command_line, write_section
from distill.tasks.embeddings.recipe import RECIPES

INT8_ROW, FP32_ROW = "student INT8 (ONNX Runtime)", "student fp32 (ONNX Runtime)"


@dataclass(frozen=True)
class Limits:
    recipe: str = "default"  # the name in distill.tasks.embeddings.recipe.RECIPES the rest came from
    corpus: str = "movie-reviews"  # or "mixed": the movie reviews and the local data sets' texts
    max_train_examples: int = RECIPES["default"].max_train_examples
    epochs: float = RECIPES["default"].epochs
    batch_size: int = RECIPES["default"].batch_size
    max_seq_len: int = RECIPES["default"].max_seq_len
    learning_rate: float = RECIPES["default"].learning_rate
    warmup_ratio: float = RECIPES["default"].warmup_ratio
    student_layers: int | tuple[int, ...] = RECIPES["default"].student_layers
    max_eval_examples: int = 1000  # held-out sentences for the mean cosine
    variants: tuple[str, ...] = ("fp32", "int8")  # fp16 is only validated on a GPU


def from_recipe(name: str, **changes) -> Limits:
    recipe = RECIPES[name]
    settings = {"max_train_examples": recipe.max_train_examples, "epochs": recipe.epochs,
                "batch_size": recipe.batch_size, "max_seq_len": recipe.max_seq_len,
                "learning_rate": recipe.learning_rate, "warmup_ratio": recipe.warmup_ratio,
                "student_layers": recipe.student_layers}
    return Limits(recipe=name, **{**settings, **{k: v for k, v in changes.items() if v is not None}})


def source_of(limits: Limits, data_dir: Path, out: Path) -> str:
    if limits.corpus == "movie-reviews":
        return "movie-reviews"
    corpus = out.parent / "transfer.txt"
    if not corpus.is_file():
        write_corpus(data_dir, corpus)
    return f"movie-reviews,{corpus}"


def run_embeddings(teacher: str, data_dir: Path, out: Path, limits: Limits = Limits(), cache: Path | None = None) -> dict:
    """Distil, evaluate, export; returns the measured numbers (also in OUT/report.json)."""
    from distill.distillation_trainer import TrainConfig
    from distill.export.config import ExportConfig
    from distill.folder_export import export_model_folder
    from distill.losses import LossWeights
    from distill.task_pipeline import RunConfig, StudentConfig, run
    from distill.tasks.embeddings.data import EmbeddingDataConfig
    from distill.tasks.embeddings.task import EmbeddingOptions
    from modelfolder.manifest import FEATURE_EXTRACTION

    cache = cache or out.parent / "teacher-embeddings"
    before, start = Path("/proc/loadavg").read_text().strip(), time.perf_counter()
    report = run(RunConfig(
        teacher=teacher, output=out, task=FEATURE_EXTRACTION,
        options=EmbeddingOptions(limits.max_seq_len, None, str(cache)),
        data=EmbeddingDataConfig(source=source_of(limits, data_dir, out), sts_data=str(Path(data_dir) / STS_DEV),
                                 max_train_examples=limits.max_train_examples, max_eval_examples=limits.max_eval_examples),
        train=TrainConfig(epochs=limits.epochs, batch_size=limits.batch_size, learning_rate=limits.learning_rate,
                          warmup_ratio=limits.warmup_ratio, logging_steps=50),
        student=StudentConfig(layers=limits.student_layers, weights=LossWeights(alpha_cos=0.0))))
    trained = time.perf_counter() - start
    export_model_folder(ExportConfig(student_dir=out / "student", output_dir=out / "model", report_dir=out,
                                     variants=limits.variants, overwrite=True))
    wall = time.perf_counter() - start
    exported = json.loads((out / "model" / "report.json").read_text())
    return {**summary(report, exported, limits, trained, wall), "mrpc": mrpc_scores(teacher, out / "student", data_dir,
                                                                                      limits.max_seq_len),
            "teacher_pass_seconds": teacher_pass_seconds(cache, report["data"]["train_examples"]),
            "loadavg_before": before, "loadavg_after": Path("/proc/loadavg").read_text().strip()}


def teacher_pass_seconds(cache: Path, rows: int) -> float | None:
    """The time the store of the run's teacher embeddings took to compute (None: not found)."""
    found = [json.loads(p.read_text()) for p in sorted(Path(cache).glob("*.json"))]
    matching = [meta.get("seconds") for meta in found if meta.get("rows") == rows]
    return matching[-1] if matching else None


def mrpc_scores(teacher: str, student_dir: Path, data_dir: Path, max_seq_len: int) -> dict:
    """MRPC dev: the Spearman correlation of the pairs' cosine with the paraphrase label."""
    from distill.tasks.embeddings.evaluate import embed
    from distill.tasks.embeddings.models import load_embedder
    from distill.tasks.embeddings.sts import sts_spearman
    from distill.teacher import load_tokenizer, resolve_teacher

    pairs = evaluation_pairs(data_dir)["mrpc"]
    scores = {}
    for name, folder in (("teacher", resolve_teacher(teacher)), ("student", str(student_dir))):
        model = load_embedder(folder).eval()
        scores[name] = sts_spearman(pairs, embed(name, model, load_tokenizer(folder), pairs.sentences(), max_seq_len, 64))
    return {**scores, "retention": scores["student"] / scores["teacher"]}


def summary(report: dict, exported: dict, limits: Limits, trained: float, wall: float) -> dict:
    rows = {row["name"]: row for row in exported["models"]}
    teacher, student = report["models"][0], report["models"][1]
    int8 = rows.get(INT8_ROW, {})
    return {
        "limits": asdict(limits), "data": report["data"], "layer_map": report["layer_map"],
        "rows": [{k: row.get(k) for k in ("name", "spearman", "mean_cosine", "parameters", "latency_ms")}
                 for row in exported["models"]],
        "teacher_spearman": teacher["spearman"], "student_spearman": student["spearman"],
        "int8_spearman": int8.get("spearman"), "retention": student["spearman"] / teacher["spearman"],
        "int8_drop": None if int8.get("spearman") is None else rows[FP32_ROW]["spearman"] - int8["spearman"],
        "mean_cosine": student["mean_cosine"], "int8_mean_cosine": int8.get("mean_cosine"),
        "speedup": exported.get("export", {}).get("speedup_vs_teacher", {}),
        "steps": report["training"]["student"]["steps"], "train_seconds": report["training"]["student"]["seconds"],
        "distill_seconds": trained, "wall_seconds": wall,
    }


def read_rows(path: Path | None) -> list[dict]:
    if path is None or not Path(path).is_file():
        return []
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teacher", default="minilm")
    parser.add_argument("--recipe", default="default", choices=sorted(RECIPES))
    parser.add_argument("--corpus", default="movie-reviews", choices=("movie-reviews", "mixed"))
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"), help="holds glue/STS-B/dev.tsv")
    parser.add_argument("--output", type=Path, default=Path("runs/embeddings"))
    parser.add_argument("--cache", type=Path, default=None, help="teacher embedding store (default: OUTPUT/../teacher-embeddings)")
    parser.add_argument("--max-train-examples", type=int, default=None)
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--rows", type=Path, default=Path("runs/embeddings-recipes.jsonl"), help="recipe rows (appended)")
    parser.add_argument("--sweep", type=Path, default=None, help="the settings sweep's rows.jsonl, for its table")
    parser.add_argument("--where", default="CPU, 2 cores shared with other work, fp32.", help="the hardware")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file to write the section into")
    parser.add_argument("--render-only", action="store_true", help="rewrite the section from --rows and --sweep")
    parser.add_argument("--note", action="append", default=[], help="a remark added to the section (repeatable)")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if not args.render_only:
        limits = from_recipe(args.recipe, corpus=args.corpus, max_train_examples=args.max_train_examples,
                             epochs=args.epochs, learning_rate=args.learning_rate)
        result = run_embeddings(args.teacher, args.data_dir, args.output, limits, args.cache)
        result = {**result, "command": command_line("bench.distill.embeddings", None, python=".venv/bin/python"),
                  "where": args.where}
        args.rows.parent.mkdir(parents=True, exist_ok=True)
        with args.rows.open("a") as handle:
            handle.write(json.dumps(result) + "\n")
    text = section(read_rows(args.rows), read_rows(args.sweep), args.note)
    if args.results is not None:
        write_section(HEADING, text, args.results)
    print(text)


if __name__ == "__main__":
    main()
