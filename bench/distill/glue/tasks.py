"""The GLUE tasks of the benchmark (bench/distill/glue/): where each one's files are, its --format, and
the DistilBERT paper's dev-set numbers for it (Sanh et al. 2019, table 1: BERT-base, DistilBERT),
as listed in ../shared/data/README.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GlueTask:
    name: str  # as GLUE names it
    format: str  # distill's --format
    train: str  # path under the data folder
    dev: str | None  # None: a seeded validation split of `train` (QNLI's half dev set)
    paper_bert: float  # the paper's number, in points (the task's GLUE metric)
    paper_distilbert: float


TASKS = (
    GlueTask("CoLA", "glue-cola", "glue/CoLA/train.tsv", "glue/CoLA/dev.tsv", 56.3, 51.3),
    GlueTask("SST-2", "glue-sst2", "sst2/train.tsv", "sst2/dev.tsv", 92.7, 91.3),
    GlueTask("MRPC", "glue-mrpc", "glue/MRPC/train.tsv", "glue/MRPC/dev.tsv", 88.6, 87.5),
    GlueTask("STS-B", "glue-stsb", "glue/STS-B/train.tsv", "glue/STS-B/dev.tsv", 89.0, 86.9),
    GlueTask("RTE", "glue-rte", "glue/RTE/train.tsv", "glue/RTE/dev.tsv", 69.3, 59.9),
    GlueTask("WNLI", "glue-wnli", "glue/WNLI/train.tsv", "glue/WNLI/dev.tsv", 53.5, 56.3),
    GlueTask("QNLI", "glue-qnli", "glue/QNLI-half/dev-half-a.tsv", None, 91.8, 89.2),
)
METRIC_NAMES = {"accuracy": "accuracy", "positive_f1": "F1", "matthews": "Matthews corr.", "spearman": "Spearman",
                "pearson": "Pearson"}


def by_name(names: str) -> list[GlueTask]:
    wanted = [n.strip().lower() for n in names.split(",") if n.strip()]
    known = {t.name.lower(): t for t in TASKS}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SystemExit(f"unknown GLUE tasks {unknown}; known: {', '.join(t.name for t in TASKS)}")
    return [known[n] for n in wanted]


def paths(task: GlueTask, data: Path) -> tuple[Path, Path | None]:
    return data / task.train, (data / task.dev) if task.dev else None
