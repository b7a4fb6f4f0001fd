"""CPU priority of the threads that do throughput work (long QA contexts), so that short requests
of other models keep their latency on a busy machine.

Linux keeps a niceness per thread, and a thread starts with its creator's. A model of a
low-priority task therefore has its ONNX Runtime session created on a thread that has lowered its
own priority (the session's intra-op pool threads, created then, inherit it), and runs on a
worker thread that lowered its priority too. The kernel then gives the cores to the event loop
and to other models' threads whenever they want them; idle cores still go to the long work."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from service.settings import Settings

T = TypeVar("T")


def task_nice(settings: Settings, task: str) -> int:
    """The niceness for the threads of a model of `task` (0: normal priority)."""
    return settings.low_priority_nice if task in (settings.low_priority_tasks or []) else 0


def lower_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority by `nice` (no-op at 0, or off Linux): relative to
    the niceness it has, so a server started under `nice` keeps the gap (capped at 19)."""
    if nice > 0 and hasattr(os, "setpriority"):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(os.getpriority(os.PRIO_PROCESS, thread) + nice, 19))


def call_at_priority(nice: int, fn: Callable[[], T]) -> T:
    """fn() on a new thread at that priority: the threads fn creates inherit it."""
    if nice <= 0:
        return fn()
    with ThreadPoolExecutor(1, initializer=lower_priority, initargs=(nice,)) as pool:
        return pool.submit(fn).result()
