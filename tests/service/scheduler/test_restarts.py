"""The parts of a model-process restart that need no process: the budget, how a death is named,
whether a restarted model process serves the same models, and a worker's readiness across it."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from service.batching.policy import BatchLimits
from service.errors import NotReady
from service.metrics import Metrics
from service.scheduler.protocol import ModelDescription, Welcome, same_models
from service.scheduler.restarts import RestartBudget, exit_reason
from service.serving.loading import LoadedModels
from service.serving.state import ServiceState
from tests.service.conftest import make_settings


def test_the_budget_allows_so_many_restarts_per_window():
    budget = RestartBudget(limit=5, window_s=300.0)
    assert [budget.allow(t) for t in (0.0, 10.0, 20.0, 30.0, 40.0, 50.0)] == [True] * 5 + [False]
    assert budget.allow(299.0) is False  # the first one still counts
    assert budget.allow(300.0) is True  # it has left the window, and made room for one
    assert budget.allow(301.0) is False


def test_no_budget_allows_none():
    assert RestartBudget(limit=0, window_s=300.0).allow(0.0) is False


@pytest.mark.parametrize(("exitcode", "reason", "words"), [
    (-9, "SIGKILL", "killed by SIGKILL"), (-11, "SIGSEGV", "killed by SIGSEGV"),
    (1, "exit_1", "exit code 1"), (-200, "signal_200", "killed by signal_200"),
])
def test_a_death_is_named_by_its_signal_or_exit_code(exitcode, reason, words):
    assert exit_reason(exitcode) == (reason, words)


def _welcome(**changes) -> Welcome:
    description = ModelDescription(folder="/models/sentiment", variant="int8", provider="CPUExecutionProvider",
                                   fixed_shapes=False, limits=BatchLimits(max_items=32, max_tokens=8192, max_wait_s=0.0))
    welcome = Welcome(requests="in", responses="out", models=["sentiment"],
                      descriptions={"sentiment": description}, failed={}, ready=False)
    return dataclasses.replace(welcome, **changes)


def test_a_restarted_model_process_must_serve_the_same_models():
    first = _welcome()
    assert same_models(first, _welcome(requests="in-2", responses="out-2", ready=True))  # new rings: the same
    other = dataclasses.replace(first.descriptions["sentiment"], variant="fp32")
    assert not same_models(first, _welcome(descriptions={"sentiment": other}))
    assert not same_models(first, _welcome(models=[], descriptions={}))


class FakeModelProcess:
    """What the state sees of a worker's connection to the model process."""

    def __init__(self) -> None:
        self.batchers: dict = {}
        self.ready, self.failed = False, {}
        self.on_ready = self.on_gone = None

    def start(self, loop) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.anyio
async def test_a_worker_is_unready_while_the_model_process_starts_again(tmp_path):
    remote = FakeModelProcess()
    state = ServiceState(settings=make_settings(tmp_path), metrics=Metrics(), models=LoadedModels({}), remote=remote)
    state.start()
    warm_up = asyncio.get_running_loop().create_task(state.warm_up())
    await asyncio.sleep(0)
    remote.on_ready({})
    await asyncio.wait_for(warm_up, 5)
    assert state.ready
    remote.on_gone()  # the model process died
    assert not state.ready
    with pytest.raises(NotReady) as refused:
        state.lookup("sentiment")
    assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "1"}
    remote.on_ready({})  # the new one is ready
    assert state.ready
    await state.stop()
