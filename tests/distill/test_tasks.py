"""The task registry and the hooks every task implements; the merged loss path."""

import inspect

import numpy as np
import pytest
import torch

from distill.data import DataError
from distill.losses import LossWeights, distillation_loss, soft_target_loss
from distill.task_protocol import Task
from distill.tasks.classification.metrics import macro_f1
from distill.tasks.registry import DEFAULT_TASK, UnknownTaskError, get_task, registry
from modelfolder.manifest import TASKS

HOOKS = [name for name, value in vars(Task).items() if inspect.isfunction(value) and not name.startswith("_")]
ATTRIBUTES = list(Task.__annotations__)


def test_every_task_of_the_contract_has_one_implementation():
    assert sorted(registry()) == sorted(TASKS)
    for name in TASKS:
        assert get_task(name).name == name


@pytest.mark.parametrize("name", TASKS)
def test_each_task_implements_every_hook(name):
    task = get_task(name)
    assert HOOKS and ATTRIBUTES
    missing = [hook for hook in HOOKS + ATTRIBUTES if not hasattr(task, hook)]
    assert missing == []
    assert task.headline in [key for key, _ in task.metrics]


def test_unknown_and_default_task():
    assert get_task(None).name == DEFAULT_TASK
    with pytest.raises(UnknownTaskError, match="unknown task 'ner'; choose one of") as caught:
        get_task("ner")
    assert isinstance(caught.value, DataError)  # shown to users as a one-line error


def test_macro_f1_leaves_out_a_class_absent_from_labels_and_predictions():
    labels, predictions = np.array([0, 0, 1, 1]), np.array([0, 0, 1, 0])
    # class 0: 2TP/(2TP+FP+FN) = 4/5; class 1: 2/3; class 2 never occurs: no F1, not a zero
    assert macro_f1(labels, predictions, 3) == pytest.approx((0.8 + 2 / 3) / 2)
    assert macro_f1(labels, predictions, 2) == macro_f1(predictions, labels, 2)  # symmetric in its arguments


def test_two_output_heads_average_the_one_head_terms():
    torch.manual_seed(0)
    student = (torch.randn(3, 5), torch.randn(3, 5))
    teacher = (torch.randn(3, 5), torch.randn(3, 5))
    gold = (torch.tensor([0, 1, 2]), torch.tensor([4, 3, 2]))
    weights = LossWeights(temperature=2.0, alpha_kd=0.3, alpha_ce=0.7, alpha_cos=0.0)
    _, both = distillation_loss(weights, student, teacher, gold)
    singles = [distillation_loss(weights, s, t, y)[1] for s, t, y in zip(student, teacher, gold)]
    assert both["loss_kd"] == pytest.approx((singles[0]["loss_kd"] + singles[1]["loss_kd"]) / 2, rel=1e-6)
    assert both["loss_ce"] == pytest.approx((singles[0]["loss_ce"] + singles[1]["loss_ce"]) / 2, rel=1e-6)
    assert singles[0]["loss_kd"] == pytest.approx(soft_target_loss(student[0], teacher[0], 2.0).item())
