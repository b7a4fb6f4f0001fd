"""The model process with two HTTP workers' clients in this test: one scheduler over both
workers' items, one queue limit, cancelled and orphaned items dropped, death seen at once."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile

import pytest

from service.errors import QueueFull
from service.scheduler.ring import remove_rings
from service.scheduler.restarts import start_model_process
from service.scheduler.worker_end import ModelProcessClient, ModelProcessGone
from tests.service.conftest import make_settings

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

_starts = itertools.count()
TEXT = [1, 5, 9, 2]  # ids within the tiny vocabulary


@pytest.fixture
def model_process(repository):
    """start(**settings) -> (settings, socket path, process); everything stopped afterwards."""
    started = []
    folder = tempfile.mkdtemp(prefix="mp-")  # short: a Unix socket path has at most 107 bytes

    def start(socket_path=None, **overrides):
        settings = make_settings(repository, models=["sentiment"], workers=2, **overrides)
        socket_path = socket_path or os.path.join(folder, f"{next(_starts)}.sock")
        prefix = f"serve-test-{os.getpid()}-{len(started)}-"
        process, pipe = start_model_process(settings, socket_path, prefix)
        started.append((process, pipe, prefix))
        return settings, socket_path, process

    yield start
    for process, pipe, prefix in started:
        try:
            pipe.send(("stop",))
            process.join(30)
        except OSError:  # it is gone already
            pass
        if process.is_alive():
            process.kill()
            process.join()
        remove_rings(prefix)
    shutil.rmtree(folder, ignore_errors=True)


async def connect(settings, socket_path) -> ModelProcessClient:
    client = ModelProcessClient(socket_path, settings.queue_limit)
    client.start(asyncio.get_running_loop())
    for _ in range(400):  # the warm-up of a tiny model: well under the 20 s allowed here
        if client.ready:
            return client
        await asyncio.sleep(0.05)
    raise AssertionError("the model process did not turn ready")


async def test_the_items_of_both_workers_run_in_one_batch(model_process):
    settings, path, _ = model_process(max_wait_ms=5000.0, max_batch_items=8)
    first, second = await connect(settings, path), await connect(settings, path)
    futures = first.batchers["sentiment"].submit([TEXT] * 4) + second.batchers["sentiment"].submit([TEXT] * 4)
    results = await asyncio.wait_for(asyncio.gather(*futures), 10)
    assert [r.batch_size for r in results] == [8] * 8  # full at 8 items: no wait for the 5 s
    assert all(r.output.shape == (2,) for r in results)
    assert all((r.output == results[0].output).all() for r in results)
    first.close(), second.close()


async def test_the_queue_limit_counts_every_workers_items(model_process):
    settings, path, _ = model_process(max_wait_ms=1500.0, queue_limit=4, max_inputs=4)
    first, second = await connect(settings, path), await connect(settings, path)
    waiting = first.batchers["sentiment"].submit([TEXT] * 3)
    refused = second.batchers["sentiment"].submit([TEXT] * 2)  # 3 + 2 > 4, though each worker has < 4
    errors = await asyncio.wait_for(asyncio.gather(*refused, return_exceptions=True), 10)
    assert all(e.status == 429 and e.headers == {"Retry-After": "1"} for e in errors), errors
    assert [r.batch_size for r in await asyncio.wait_for(asyncio.gather(*waiting), 10)] == [3] * 3
    with pytest.raises(QueueFull):  # this worker's own count is checked before anything is sent
        second.batchers["sentiment"].submit([TEXT] * 5)
    first.close(), second.close()


async def test_cancelled_items_and_those_of_a_worker_that_left_are_not_run(model_process):
    settings, path, _ = model_process(max_wait_ms=1000.0)
    first, second, third = [await connect(settings, path) for _ in range(3)]
    cancelled = first.batchers["sentiment"].submit([TEXT])
    cancelled[0].cancel()  # the request timed out, or its client went away
    second.batchers["sentiment"].submit([TEXT, TEXT])
    second.close()  # the worker died with two items queued
    await asyncio.sleep(0.2)
    kept = third.batchers["sentiment"].submit([TEXT])
    [result] = await asyncio.wait_for(asyncio.gather(*kept), 10)
    assert result.batch_size == 1  # had any of the other three stayed, they would have joined
    first.close(), third.close()


async def test_a_failed_model_call_comes_back_with_its_type_and_message(model_process):
    settings, path, _ = model_process()
    client = await connect(settings, path)
    futures = client.batchers["sentiment"].submit([[1, 100000, 2]])  # an id past the vocabulary
    [error] = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 10)
    assert type(error).__name__ == "InvalidArgument" and "indices element out of data bounds" in str(error)
    [result] = await asyncio.wait_for(asyncio.gather(*client.batchers["sentiment"].submit([TEXT])), 10)
    assert result.output.shape == (2,)  # the model process goes on
    client.close()


async def test_when_the_model_process_dies_waiting_items_fail_at_once(model_process):
    settings, path, process = model_process(max_wait_ms=20000.0)
    client = await connect(settings, path)
    gone = asyncio.Event()
    client.on_gone = gone.set
    futures = client.batchers["sentiment"].submit([TEXT] * 3)
    process.kill()
    errors = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 10)
    assert all(isinstance(e, ModelProcessGone) and e.status == 503 for e in errors), errors
    await asyncio.wait_for(gone.wait(), 5)
    assert client.gone and not client.ready
    with pytest.raises(ModelProcessGone):
        client.batchers["sentiment"].submit([TEXT])
    client.close()


async def test_a_client_connects_to_the_model_process_started_again(model_process):
    settings, path, process = model_process(variant="int8")
    client = ModelProcessClient(path, settings.queue_limit, reconnect=True)
    ready, other = asyncio.Event(), asyncio.Event()
    client.on_ready = lambda _failed: ready.set()
    client.on_other_models = other.set
    client.start(asyncio.get_running_loop())
    waiting = client.batchers["sentiment"].submit([TEXT])
    process.kill()
    [error] = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 10)
    assert isinstance(error, ModelProcessGone) and error.headers == {"Retry-After": "1"}
    _, _, process = model_process(socket_path=path, variant="int8")  # the same models, on the same path
    await asyncio.wait_for(ready.wait(), 30)
    assert client.ready and not client.gone
    [result] = await asyncio.wait_for(asyncio.gather(*client.batchers["sentiment"].submit([TEXT])), 10)
    assert result.output.shape == (2,)
    process.kill()
    model_process(socket_path=path, variant="fp32")  # another variant: this worker must start afresh
    await asyncio.wait_for(other.wait(), 30)
    assert not client.ready
    client.close()
