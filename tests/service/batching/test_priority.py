"""Model threads of low-priority tasks (question answering by default) run at a lower CPU
priority; other models' threads and the event loop keep theirs."""

from __future__ import annotations

import os
import threading

import pytest

from service.batching.priority import call_at_priority
from tests.service.conftest import serving

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread niceness is Linux's")


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_threads_started_at_a_priority_inherit_it():
    def child_nice() -> int:
        seen = []
        thread = threading.Thread(target=lambda: seen.append(own_nice()))
        thread.start()
        thread.join()
        return seen[0]

    base = own_nice()
    assert call_at_priority(3, child_nice) == min(base + 3, 19)
    assert call_at_priority(0, own_nice) == base


@pytest.mark.parametrize("tasks, qa_lower", [(None, True), ([], False)])
def test_qa_model_threads_run_at_the_lower_priority(qa_repository, tasks, qa_lower):
    overrides = {} if tasks is None else {"low_priority_tasks": tasks}
    with serving(qa_repository, models=["qa", "sentiment"], low_priority_nice=7, **overrides) as client:
        batchers = client.app.state.service.batchers
        qa, sentiment = (client.portal.call(batchers[n].call, own_nice) for n in ("qa", "sentiment"))
        main = own_nice()
    assert sentiment == main
    assert qa == (min(main + 7, 19) if qa_lower else main)
