"""The serving tasks by the contract's task names (`modelfolder.manifest`): the only place a task name
selects code on the online side. Routes, the runtime and the page ask `get_task`."""

from __future__ import annotations

from service.tasks.base import Endpoint, ServingTask
from service.tasks.classification import ClassificationTask
from service.tasks.embeddings.task import EmbeddingsTask
from service.tasks.question_answering.task import QuestionAnsweringTask
from service.tasks.regression import RegressionTask
from service.tasks.token_classification.task import TokenClassificationTask

TASKS: dict[str, ServingTask] = {
    task.name: task
    for task in (ClassificationTask(), RegressionTask(), QuestionAnsweringTask(), TokenClassificationTask(),
                 EmbeddingsTask())
}


def get_task(name: str) -> ServingTask:
    """The serving task of a manifest's task name; KeyError names the served ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"no serving task {name!r} (served: {', '.join(TASKS)})") from None


def endpoints() -> list[tuple[Endpoint, tuple[str, ...]]]:
    """Every /v1 endpoint with the tasks served on it, in registry order."""
    found: dict[str, tuple[Endpoint, list[str]]] = {}
    for task in TASKS.values():
        for endpoint in task.endpoints:
            found.setdefault(endpoint.path, (endpoint, []))[1].append(task.name)
    return [(endpoint, tuple(names)) for endpoint, names in found.values()]
