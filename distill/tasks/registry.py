"""The one registry of tasks, keyed by the task names of the model-folder contract
(`modelfolder.manifest.TASKS`). Adding a task: one sub-package implementing `distill.task_protocol.Task`, one entry here."""

from __future__ import annotations

from distill.data import DataError
from distill.task_protocol import DataOptions, Task, fields_of
from distill.tasks.classification.task import ClassificationTask
from distill.tasks.embeddings.task import EmbeddingTask
from distill.tasks.question_answering.task import QuestionAnsweringTask
from distill.tasks.regression.task import RegressionTask
from distill.tasks.text.data import DataConfig, detect_task
from distill.tasks.token_classification.task import TokenClassificationTask
from modelfolder.manifest import CLASSIFICATION, TOKEN_CLASSIFICATION

DEFAULT_TASK = CLASSIFICATION


class UnknownTaskError(DataError):
    """A task name that no implementation answers to."""


def registry() -> dict[str, Task]:
    tasks = (ClassificationTask(), QuestionAnsweringTask(), RegressionTask(), TokenClassificationTask(),
             EmbeddingTask())
    return {task.name: task for task in tasks}


def get_task(name: str | None) -> Task:
    """The task called `name` (the default task when None, as in files written before tasks were named)."""
    tasks = registry()
    key = DEFAULT_TASK if name is None else name
    if key not in tasks:
        raise UnknownTaskError(f"unknown task {name!r}; choose one of {', '.join(tasks)}")
    return tasks[key]


def task_for(name: str | None, options: DataOptions) -> Task:
    """The task called `name`; when None, the one the data say: token classification for .conll
    files, the task of a --format, regression for a local file whose labels are non-integer
    numbers, else the default task."""
    if name is not None:
        return get_task(name)
    if options.source.lower().endswith(".conll"):
        return get_task(TOKEN_CLASSIFICATION)
    return get_task(detect_task(DataConfig(**fields_of(DataConfig, vars(options)))) or DEFAULT_TASK)
