"""The serving tasks: one per task of the model-folder contract, each with every hook, and the
routes built from them."""

from __future__ import annotations

import inspect

import pytest

from modelfolder.manifest import TASKS as CONTRACT_TASKS
from modelfolder.manifest import ModelFolderError
from service.serving.loading import load_runtime
from service.tasks import registry
from service.tasks.base import ServingTask
from tests.service.conftest import make_settings

ATTRIBUTES = ("name", "endpoints", "form", "card_metrics", "agreement", "segments")


def test_every_task_of_the_contract_has_one_serving_task():
    assert sorted(registry.TASKS) == sorted(CONTRACT_TASKS)
    for name, task in registry.TASKS.items():
        assert task.name == name and registry.get_task(name) is task


@pytest.mark.parametrize("name", sorted(registry.TASKS))
def test_each_serving_task_has_every_hook(name):
    task = registry.get_task(name)
    assert isinstance(task, ServingTask) and not inspect.isabstract(type(task))
    assert all(getattr(task, attribute, None) is not None for attribute in ATTRIBUTES)
    assert task.endpoints and all(e.path.startswith("/v1/") for e in task.endpoints)
    assert callable(task.agreement.row) and callable(task.agreement.matches)


def test_each_path_has_one_request_model_and_the_routes_are_all_served():
    paths = {}
    for endpoint, tasks in registry.endpoints():
        assert paths.setdefault(endpoint.path, endpoint.request) is endpoint.request
        assert tasks and all(endpoint in registry.get_task(t).endpoints for t in tasks)
    assert sorted(paths) == ["/v1/classify", "/v1/embeddings", "/v1/qa", "/v1/sentiment", "/v1/token-classification"]
    with pytest.raises(KeyError, match="no serving task 'translation'"):
        registry.get_task("translation")


def test_a_folder_of_a_task_this_version_does_not_serve_is_refused_by_name(token_repository, monkeypatch):
    monkeypatch.delitem(registry.TASKS, "token-classification")
    with pytest.raises(ModelFolderError, match=r"ner: no serving task 'token-classification'"):
        load_runtime(token_repository / "ner", make_settings(token_repository))


def test_no_module_outside_the_tasks_compares_task_names():
    """Task names select code only in service/tasks/ (and the contract, modelfolder/manifest.py)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "service"
    constants = {"CLASSIFICATION", "QUESTION_ANSWERING", "REGRESSION", "TOKEN_CLASSIFICATION", "FEATURE_EXTRACTION"}
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "manifest.py" and path.parent == root or root / "tasks" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "modelfolder.manifest":
                found += [f"{path.name} imports {a.name}" for a in node.names if a.name in constants]
            if isinstance(node, ast.Compare):
                literals = [c.value for c in (node.left, *node.comparators) if isinstance(c, ast.Constant)]
                found += [f"{path.name}:{node.lineno} compares {v!r}" for v in literals if v in CONTRACT_TASKS]
    assert found == []
