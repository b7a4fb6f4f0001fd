"""The one registry of tasks, keyed by the task names of the model-folder contract
(`service.manifest.TASKS`). Adding a task: one sub-package implementing `base.Task`, one entry here."""

from __future__ import annotations

from distill.data import DataError
from distill.tasks.base import Task
from distill.tasks.classification.task import ClassificationTask
from distill.tasks.question_answering.task import QuestionAnsweringTask
from service.manifest import CLASSIFICATION

DEFAULT_TASK = CLASSIFICATION


class UnknownTaskError(DataError):
    """A task name that no implementation answers to."""


def registry() -> dict[str, Task]:
    return {task.name: task for task in (ClassificationTask(), QuestionAnsweringTask())}


def get_task(name: str | None) -> Task:
    """The task called `name` (the default task when None, as in files written before tasks were named)."""
    tasks = registry()
    key = DEFAULT_TASK if name is None else name
    if key not in tasks:
        raise UnknownTaskError(f"unknown task {name!r}; choose one of {', '.join(tasks)}")
    return tasks[key]
