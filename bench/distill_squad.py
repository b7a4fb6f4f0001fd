"""Benchmark (not a test): distil `minilm` into a 3-layer DistilBERT question-answering student.

    .venv/bin/python bench/distill_squad.py [--train ../shared/data/squad/train-subset-v1.1.json]
        [--dev ../shared/data/squad/dev-subset-v1.1.json] [--covid-qa ../shared/data/covid-qa/covid-qa-v1.json]
        [--output runs/squad] [--max-train-examples N] [--teacher-epochs 2] [--epochs 2]

The teacher's span head is fine-tuned and the student distilled on the SQuAD v1.1 train subset
(plus, with --covid-qa, the training articles of a seeded by-article split of COVID-QA), both are
evaluated on the SQuAD dev subset (and on the held-out COVID-QA articles: long contexts, many
windows each), and the numbers go under "## Question answering (SQuAD subset)" in docs/RESULTS.md.
Answers whose text is not at answer_start (a few in these files) are skipped.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results_md import RESULTS, write_section  # noqa: E402
from distill.evaluate import EvalConfig  # noqa: E402
from distill.pipeline import RunConfig, StudentConfig, evaluate_pair, run  # noqa: E402
from distill.tasks.question_answering.data import (  # noqa: E402
    QAData, QADataConfig, read_squad_json, split_by_article, write_squad_json,
)
from distill.tasks.question_answering.features import WindowConfig  # noqa: E402
from distill.tasks.question_answering.options import QAOptions  # noqa: E402
from distill.tasks.registry import get_task  # noqa: E402
from distill.trainer import TrainConfig  # noqa: E402

HEADING = "## Question answering (SQuAD subset)"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=DATA / "squad" / "train-subset-v1.1.json")
    parser.add_argument("--dev", type=Path, default=DATA / "squad" / "dev-subset-v1.1.json")
    parser.add_argument("--covid-qa", type=Path, default=None, help="COVID-QA JSON: split by article, added")
    parser.add_argument("--covid-eval-fraction", type=float, default=0.2, help="COVID-QA articles held out")
    parser.add_argument("--output", type=Path, default=Path("runs/squad"))
    parser.add_argument("--max-train-examples", type=int, default=None)
    parser.add_argument("--max-eval-examples", type=int, default=None)
    parser.add_argument("--teacher-epochs", type=float, default=2.0)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-seq-len", type=int, default=384)
    parser.add_argument("--doc-stride", type=int, default=128)
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file to update")
    return parser.parse_args()


def covid_split(path: Path, fraction: float, output: Path) -> tuple[Path, list]:
    """COVID-QA's training articles as a SQuAD file in `output`, and the held-out questions."""
    train, held_out = split_by_article(read_squad_json(path, skip_bad_answers=True), fraction, seed=42)
    return write_squad_json(train, output / "covid-qa-train.json"), held_out


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{100 * ratio:.1f}%"  # None: the teacher scored 0


def _row(row: dict) -> str:
    return (f"| {row['name']} | {100 * row['exact_match']:.1f} | {100 * row['f1']:.1f} | {row['parameters']:,} | "
            + " | ".join(f"{row['latency_ms'][s]:.1f}" for s in ("1", "32") if s in row["latency_ms"]) + " |")


def section(report: dict, covid_rows: list[dict], command: str, wall: float, config: RunConfig) -> str:
    data, w = report["data"], config.options.windows
    lines = [
        HEADING, "",
        f"Command: `{command}`", "",
        f"Teacher `minilm` (all-MiniLM-L6-v2, 6 layers) with a span head fine-tuned, then a 3-layer DistilBERT "
        f"student (layer map {report['layer_map']}) distilled; {data['train_examples']} training questions, "
        f"evaluated on the {data['validation_examples']} SQuAD dev-subset questions. Windows of {w.max_seq_len} "
        f"tokens, doc stride {w.doc_stride}; CPU, 2 shared cores, fp32. EM/F1 in SQuAD points (x100).", "",
        "| model | dev EM | dev F1 | parameters | latency b=1 (ms) | latency b=32 (ms) |",
        "|---|---|---|---|---|---|",
        *(_row(row) for row in report["models"][:2]), "",
        f"- F1 retention: {_pct(report['retention']['f1'])}, EM retention: {_pct(report['retention']['exact_match'])}",
        f"- parameter reduction: {100 * report['parameter_reduction']:.1f}%",
        "- PyTorch speed-up: " + ", ".join(f"{v:.2f}x at batch {k}" for k, v in report["speedup"].items()),
        "- paper anchors (full SQuAD v1.1 dev, 88k training questions): BERT-base 81.2/88.5, "
        "DistilBERT 77.7/85.8 EM/F1",
        f"- total wall time: {wall / 60:.1f} min", "",
    ]
    if covid_rows:
        lines += ["Held-out COVID-QA articles (long contexts, many windows per question):", "",
                  "| model | EM | F1 | parameters | latency b=1 (ms) |", "|---|---|---|---|---|",
                  *(_row(row) for row in covid_rows), ""]
    return "\n".join(lines)


def evaluate_covid(output: Path, examples: list, config: RunConfig) -> list[dict]:
    from transformers import AutoModelForQuestionAnswering

    from distill.teacher import load_tokenizer

    teacher = AutoModelForQuestionAnswering.from_pretrained(str(output / "teacher"))
    student = AutoModelForQuestionAnswering.from_pretrained(str(output / "student"))
    return evaluate_pair(get_task(config.task), teacher, student, load_tokenizer(str(output / "student")),
                         QAData([], examples), config.options, EvalConfig(latency_batch_sizes=(1,)))


def main() -> None:
    args = arguments()
    sources, held_out = [str(args.train)], []
    if args.covid_qa:
        covid_train, held_out = covid_split(args.covid_qa, args.covid_eval_fraction, args.output / "data")
        sources.append(str(covid_train))
    train = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, logging_steps=10)
    config = RunConfig(
        teacher="minilm", output=args.output, task="question-answering",
        data=QADataConfig(source=",".join(sources), validation_source=str(args.dev), skip_bad_answers=True,
                          max_train_examples=args.max_train_examples, max_eval_examples=args.max_eval_examples),
        options=QAOptions(WindowConfig(args.max_seq_len, args.doc_stride)),
        train=train, teacher_train=replace(train, epochs=args.teacher_epochs),
        student=StudentConfig(layers=3),
    )
    start = time.perf_counter()
    report = run(config)
    covid_rows = evaluate_covid(args.output, held_out, config) if held_out else []
    wall = time.perf_counter() - start
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/distill_squad.py", *sys.argv[1:]])
    text = section(report, covid_rows, command, wall, config)
    write_section(HEADING, text, args.results)
    print(text)


if __name__ == "__main__":
    main()
