"""The asyncio batcher: shared batches, dropped items, real exception types, 429, draining."""

from __future__ import annotations

import asyncio
import threading

import httpx
import numpy as np
import pytest

from service.batching.batcher import Batcher, gather_results
from service.batching.policy import BatchLimits
from service.errors import QueueFull, ShuttingDown
from service.main import create_app
from service.metrics import Metrics
from tests.service.conftest import make_settings

pytestmark = pytest.mark.anyio


class Recorder:
    """A model stand-in for the batcher: output row = [length, sum of ids]; records each call.
    `gate` (a threading.Event) holds calls until the test opens it."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: list[list[list[int]]] = []
        self.gate = gate

    def __call__(self, sequences):
        if self.gate is not None:
            assert self.gate.wait(timeout=10)
        self.calls.append([list(s) for s in sequences])
        return np.array([[len(s), sum(s)] for s in sequences], dtype=np.float32)


def make_batcher(run, max_items=8, max_tokens=1000, max_wait_ms=20.0, queue_limit=64) -> Batcher:
    limits = BatchLimits(max_items, max_tokens, max_wait_ms / 1000)
    return Batcher("m", run, limits, queue_limit, Metrics())


async def test_concurrent_submissions_share_one_batch():
    run = Recorder()
    batcher = make_batcher(run, max_items=8, max_wait_ms=50.0)
    batcher.start()
    futures = [batcher.submit([[i] * (i + 1)]) for i in range(6)]
    results = await asyncio.gather(*(gather_results(f, 5.0) for f in futures))
    await batcher.close()
    assert len(run.calls) == 1 and len(run.calls[0]) == 6
    for i, (result,) in enumerate(results):
        assert result.output.tolist() == [i + 1, i * (i + 1)]
        assert result.batch_size == 6


async def test_a_full_batch_runs_without_waiting_for_max_wait():
    run = Recorder()
    batcher = make_batcher(run, max_items=4, max_wait_ms=60_000.0)
    batcher.start()
    results = await asyncio.wait_for(gather_results(batcher.submit([[1]] * 4), 5.0), 5.0)
    await batcher.close()
    assert [r.batch_size for r in results] == [4, 4, 4, 4]


async def busy_batcher():
    """A one-item batcher whose model call is held by a gate with item [1] inside it:
    (gate, recorder, batcher, the futures of [1])."""
    gate = threading.Event()
    run = Recorder(gate)
    batcher = make_batcher(run, max_items=1, max_wait_ms=0.0)
    batcher.start()
    first = batcher.submit([[1]])
    await asyncio.sleep(0.05)  # the first item is now inside the model call, held by the gate
    return gate, run, batcher, first


async def test_items_of_cancelled_requests_are_not_computed():
    gate, run, batcher, first = await busy_batcher()
    abandoned = batcher.submit([[2], [2]])
    assert await gather_results(abandoned, 0.01) is None  # times out: futures cancelled
    kept = batcher.submit([[3]])
    gate.set()
    await gather_results(first, 5.0)
    await gather_results(kept, 5.0)
    await batcher.close()
    assert [call[0][0] for call in run.calls] == [1, 3]


async def test_a_first_short_wait_leaves_the_items_queued():
    """The route's first, unwatched wait: on its timeout the items stay queued and run later."""
    gate, run, batcher, first = await busy_batcher()
    second = batcher.submit([[2]])
    assert await gather_results(second, 0.01, cancel_on_timeout=False) is None
    assert not second[0].cancelled()
    gate.set()
    await gather_results(first, 5.0)
    assert (await gather_results(second, 5.0))[0].output is not None
    await batcher.close()
    assert [call[0][0] for call in run.calls] == [1, 2]


async def test_model_exceptions_reach_every_waiting_item_with_their_type():
    def broken(sequences):
        raise MemoryError("no room")

    batcher = make_batcher(broken)
    batcher.start()
    with pytest.raises(MemoryError, match="no room"):
        await gather_results(batcher.submit([[1], [2]]), 5.0)
    await batcher.close()


async def test_queue_full_refuses_whole_requests_and_keeps_accepted_ones():
    gate = threading.Event()
    run = Recorder(gate)
    batcher = make_batcher(run, max_items=2, max_wait_ms=0.0, queue_limit=4)
    batcher.start()
    accepted = [batcher.submit([[1], [1]])]
    await asyncio.sleep(0.05)  # first two items are in the (held) model call
    accepted.append(batcher.submit([[2], [2], [2]]))
    with pytest.raises(QueueFull) as refused:
        batcher.submit([[9], [9]])
    assert refused.value.headers["Retry-After"] == "1"
    gate.set()
    results = [await gather_results(f, 5.0) for f in accepted]
    await batcher.close()
    assert [len(r) for r in results] == [2, 3]
    assert sum(len(c) for c in run.calls) == 5


async def test_close_drains_pending_items_then_refuses_new_ones():
    run = Recorder()
    batcher = make_batcher(run, max_items=2, max_wait_ms=60_000.0)
    batcher.start()
    futures = batcher.submit([[1], [2], [3]])
    await batcher.close()
    assert all(f.done() and not f.cancelled() for f in futures)
    with pytest.raises(ShuttingDown):
        batcher.submit([[4]])


async def test_concurrent_http_requests_share_batches_on_the_real_model(repository):
    settings = make_settings(repository, max_wait_ms=30.0, max_batch_items=32)
    app = create_app(settings)
    state = app.state.service
    texts = ["a wonderful film", "a dull film", "the best movie of the year", "i hated it"]
    async with app.router.lifespan_context(app):
        for _ in range(500):
            if state.ready:
                break
            await asyncio.sleep(0.01)
        assert state.ready
        before = len(state.batchers["sentiment"].records)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            responses = await asyncio.gather(*(
                http.post("/v1/sentiment", json={"inputs": texts[i % 4]}) for i in range(24)
            ))
        records = list(state.batchers["sentiment"].records)[before:]
    assert all(r.status_code == 200 for r in responses)
    assert sum(r.size for r in records) == 24
    assert len(records) < 24 and max(r.size for r in records) > 1
    assert max(int(r.headers["X-Batch-Size"]) for r in responses) > 1


async def test_queue_full_over_http_is_429_and_every_accepted_request_is_answered(repository):
    app = create_app(make_settings(repository, queue_limit=6, max_inputs=2, max_batch_items=2, max_wait_ms=0.0))
    state = app.state.service
    async with app.router.lifespan_context(app):
        for _ in range(500):
            if state.ready:
                break
            await asyncio.sleep(0.01)
        gate, entered = threading.Event(), threading.Event()
        real_run = state.models.runtimes["sentiment"].run

        def held_run(sequences):  # the real model, held until the queue has filled
            entered.set()
            assert gate.wait(timeout=10)
            return real_run(sequences)

        state.batchers["sentiment"]._run_fn = held_run
        body = {"inputs": ["a dull film", "great"]}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            tasks = [asyncio.ensure_future(http.post("/v1/sentiment", json=body))]
            assert await asyncio.to_thread(entered.wait, 10)  # request 1 is inside the model call
            tasks += [asyncio.ensure_future(http.post("/v1/sentiment", json=body)) for _ in range(9)]
            for _ in range(1000):
                labels = {"model": "sentiment", "reason": "queue_full"}
                if (state.metrics.registry.get_sample_value("serve_rejections_total", labels) or 0) >= 6:
                    break
                await asyncio.sleep(0.005)
            gate.set()
            responses = await asyncio.gather(*tasks)
        metrics_text = (await httpx.AsyncClient(transport=transport, base_url="http://test").get("/metrics")).text
    codes = sorted(r.status_code for r in responses)
    assert set(codes) == {200, 429}
    assert codes.count(200) == 4  # 1 request in the model call + 3 queued (6 items)
    for r in responses:
        if r.status_code == 429:
            assert r.headers["Retry-After"] == "1" and r.json()["error"]["type"] == "queue_full"
        else:
            assert len(r.json()) == 2
    assert 'serve_rejections_total{model="sentiment",reason="queue_full"} 6.0' in metrics_text


class Overlap:
    """A model stand-in that counts the calls running at the same moment; each call waits at a
    barrier of `parties` calls, so the test fails (BrokenBarrierError) unless that many overlap."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)
        self.calls = 0

    def __call__(self, sequences):
        self.calls += 1
        self.barrier.wait()
        return np.array([[len(s), sum(s)] for s in sequences], dtype=np.float32)


async def test_with_two_runners_two_batches_run_at_once():
    run = Overlap(2)
    limits = BatchLimits(max_items=2, max_tokens=1000, max_wait_s=0.0)
    batcher = Batcher("m", run, limits, 64, Metrics(), runners=2)
    batcher.start()
    futures = batcher.submit([[1], [2]]) + batcher.submit([[3], [4]])  # two full batches of 2
    results = await asyncio.wait_for(gather_results(futures, 10.0), 15.0)
    await batcher.close()
    assert run.calls == 2 and [r.output.tolist()[1] for r in results] == [1, 2, 3, 4]
    assert [r.batch_size for r in results] == [2, 2, 2, 2]


class Concurrency:
    """A model stand-in that records the most calls in progress at once; calls wait for `gate`."""

    def __init__(self, gate: threading.Event) -> None:
        self.gate, self.lock = gate, threading.Lock()
        self.active = self.most = 0

    def __call__(self, sequences):
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        assert self.gate.wait(timeout=10)
        with self.lock:
            self.active -= 1
        return np.array([[len(s), sum(s)] for s in sequences], dtype=np.float32)


async def test_one_runner_runs_one_batch_at_a_time():
    gate = threading.Event()
    run = Concurrency(gate)
    batcher = make_batcher(run, max_items=1, max_wait_ms=0.0)
    batcher.start()
    futures = batcher.submit([[1]]) + batcher.submit([[2]])
    await asyncio.sleep(0.2)  # room for a second call to start, were it allowed to
    gate.set()
    await asyncio.wait_for(gather_results(futures, 10.0), 15.0)
    await batcher.close()
    assert run.most == 1
