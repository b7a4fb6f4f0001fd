"""The GLUE table of bench/distill/glue/: the Markdown section (teacher, student, INT8 per task with the
retention, the average, the paper's rows and the targets) and its plot."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.distill.glue.tasks import METRIC_NAMES

RETENTION_TARGET = 0.97
INT8_MAX_DROP = 1.0  # points


def points(value: float) -> float:
    return 100.0 * value


def retention(result: dict) -> float | None:
    return result["student"] / result["teacher"] if result["teacher"] > 0 else None


def _cell(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def _row(r: dict) -> str:
    kept = retention(r)
    cells = [r["task"], METRIC_NAMES[r["metric"]], f"{r['train_examples']:,}", f"{r['dev_examples']:,}",
             _cell(points(r["teacher"])), _cell(points(r["student"])), _cell(points(r["int8"])),
             _cell(None if kept is None else 100 * kept, 1, "%"), _cell(points(r["int8"] - r["fp32"]), 2),
             _cell(r["paper_bert"]), _cell(r["paper_distilbert"]),
             _cell(100 * r["paper_distilbert"] / r["paper_bert"], 1, "%"), f"{r['seconds'] / 60:.1f}"]
    return "| " + " | ".join(cells) + " |"


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def averages(results: list[dict]) -> dict[str, float | None]:
    kept = [k for k in (retention(r) for r in results) if k is not None]
    return {
        "teacher": _mean([points(r["teacher"]) for r in results]),
        "student": _mean([points(r["student"]) for r in results]),
        "int8": _mean([points(r["int8"]) for r in results]),
        "retention": _mean(kept),
        "paper_bert": _mean([r["paper_bert"] for r in results]),
        "paper_distilbert": _mean([r["paper_distilbert"] for r in results]),
    }


def _average_row(mean: dict) -> str:
    paper = 100 * mean["paper_distilbert"] / mean["paper_bert"]
    cells = ["**average**", "", "", "", _cell(mean["teacher"]), _cell(mean["student"]), _cell(mean["int8"]),
             _cell(None if mean["retention"] is None else 100 * mean["retention"], 1, "%"), "",
             _cell(mean["paper_bert"]), _cell(mean["paper_distilbert"]), _cell(paper, 1, "%"), ""]
    return "| " + " | ".join(cells) + " |"


def verdicts(results: list[dict], mean: dict) -> list[str]:
    worst = max(results, key=lambda r: abs(r["fp32"] - r["int8"]))
    drop = points(abs(worst["fp32"] - worst["int8"]))
    kept = mean["retention"]
    return [
        f"- average retention (student / teacher, over the tasks where the teacher scores above 0): "
        f"{_cell(None if kept is None else 100 * kept, 1, '%')}; target >= 97%: "
        f"**{'met' if kept is not None and kept >= RETENTION_TARGET else 'not met'}**",
        f"- INT8 vs fp32 ONNX: largest difference {drop:.2f} points ({worst['task']}); target within 1 point on every "
        f"task: **{'met' if drop <= INT8_MAX_DROP else 'not met'}**",
    ]


def section(heading: str, results: list[dict], args: argparse.Namespace, command: str, wall: float,
            figure: str) -> str:
    mean = averages(results)
    sst2 = min(c for c in (args.max_train_examples, args.sst2_train_examples) if c) if args.sst2_train_examples else None
    caps = (f"training examples per task capped at {args.max_train_examples or 'none'} "
            f"(SST-2 at {sst2 or args.max_train_examples or 'none'}), dev sets at {args.max_eval_examples or 'none'} examples "
            f"(seeded subsamples), teacher {args.teacher_epochs:g} epoch(s), student {args.epochs:g} epoch(s), "
            f"max_seq_len {args.max_seq_len}, batch {args.batch_size}")
    lines = [
        heading, "",
        f"Command: `{command}`", "",
        f"Duration: {wall / 60:.1f} min (CPU, 2 cores shared with other work). Settings: {caps}.", "",
        f"Teacher `minilm` (all-MiniLM-L6-v2, 6 layers, fine-tuned per task), {args.student_layers}-layer DistilBERT "
        "student, INT8 = dynamic quantisation of the student's ONNX graph. Each task scored on its dev set with "
        "its GLUE metric, in points; QNLI's dev set is a seeded validation split of the shared half dev set. "
        "Retention = student / teacher. Paper rows: DistilBERT paper (Sanh et al. 2019), GLUE dev, BERT-base and "
        "DistilBERT (full training sets, 12-layer teacher, 6-layer student).", "",
        "| task | metric | train | dev | teacher | student | INT8 student | retention | INT8 - fp32 | "
        "paper BERT-base | paper DistilBERT | paper retention | minutes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_row(r) for r in results), _average_row(mean), "",
        *verdicts(results, mean), "",
        f"![GLUE: teacher, student, INT8 student per task]({figure})", "",
    ]
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["task"] for r in results]
    series = [("teacher", [points(r["teacher"]) for r in results]),
              ("student", [points(r["student"]) for r in results]),
              ("INT8 student", [points(r["int8"]) for r in results]),
              ("paper DistilBERT", [r["paper_distilbert"] for r in results])]
    width = 0.8 / len(series)
    figure, axis = plt.subplots(figsize=(max(6, 1.4 * len(names)), 4))
    for i, (label, values) in enumerate(series):
        axis.bar([x + i * width for x in range(len(names))], values, width, label=label)
    axis.set_xticks([x + 1.5 * width for x in range(len(names))], names)
    axis.set_ylabel("GLUE dev metric (points)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
