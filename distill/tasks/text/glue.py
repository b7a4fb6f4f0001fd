"""`--format glue-<task>`: the column layout of the GLUE task files (as the GLUE download script
writes them), the task they are, and the metric GLUE reports for them.

Every GLUE file is TSV (read without quote processing, see `readers`); CoLA's files have no header
row, so its four columns are named here.
"""

from __future__ import annotations

from dataclasses import dataclass

from distill.data import DataError
from distill.tasks.text.readers import Columns
from modelfolder.manifest import CLASSIFICATION, REGRESSION


@dataclass(frozen=True)
class GlueFormat:
    columns: Columns
    task: str  # a task name of the model-folder contract
    metric: str  # the headline metric GLUE reports for the task


COLA_COLUMNS = ("source", "label", "original_label", "sentence")
FORMATS = {
    "glue-cola": GlueFormat(Columns("sentence", "label", None, COLA_COLUMNS), CLASSIFICATION, "matthews"),
    "glue-sst2": GlueFormat(Columns("sentence", "label"), CLASSIFICATION, "accuracy"),
    "glue-mrpc": GlueFormat(Columns("#1 String", "Quality", "#2 String"), CLASSIFICATION, "positive_f1"),
    "glue-qqp": GlueFormat(Columns("question1", "is_duplicate", "question2"), CLASSIFICATION, "positive_f1"),
    "glue-stsb": GlueFormat(Columns("sentence1", "score", "sentence2"), REGRESSION, "spearman"),
    "glue-rte": GlueFormat(Columns("sentence1", "label", "sentence2"), CLASSIFICATION, "accuracy"),
    "glue-wnli": GlueFormat(Columns("sentence1", "label", "sentence2"), CLASSIFICATION, "accuracy"),
    "glue-qnli": GlueFormat(Columns("question", "label", "sentence"), CLASSIFICATION, "accuracy"),
}


def glue_format(name: str) -> GlueFormat:
    if name not in FORMATS:
        raise DataError(f"unknown --format {name!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[name]
