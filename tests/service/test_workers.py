"""Serving processes seen from outside: `serve --workers N` (several processes on one port, their
metrics gathered into one view), and a client that leaves before its answer."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import time

import httpx
import psutil
import pytest

from service.settings import Settings
from service.workers import worker_threads
from tests.service.test_startup_shutdown import ROOT, SERVE, _ready, free_port, wait_for


def test_onnx_runtime_threads_are_shared_out_between_workers():
    assert worker_threads(Settings(workers=1), 16) == 0  # one worker: ONNX Runtime's own default
    assert worker_threads(Settings(workers=4), 16) == 4
    assert worker_threads(Settings(workers=3), 2) == 1  # at least one each
    assert worker_threads(Settings(workers=4, intra_op_threads=2), 16) == 2  # the setting wins


def start_serve(repository, tmp_path, *flags: str):
    """`serve` for the `sentiment` model on a free port: (base URL, process, its open log file)."""
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    process = subprocess.Popen(
        [*SERVE, "--model-repository", str(repository), "--models", "sentiment", "--port", str(port),
         "--warmup-batches", "1", *flags],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    return f"http://127.0.0.1:{port}", process, log


def _total(text: str, line_start: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)]
    assert len(values) == 1, (line_start, text[:2000])
    return values[0]


@pytest.mark.slow
def test_two_workers_answer_on_one_port_and_count_together(repository, tmp_path):
    n = 40
    url, process, log = start_serve(repository, tmp_path, "--workers", "2")
    try:
        wait_for(lambda: _ready(url), 60)
        children = psutil.Process(process.pid).children()
        workers = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(workers) == 2, [c.cmdline() for c in children]
        wait_for(lambda: all(_ready(url) for _ in range(6)), 60)  # both warmed up, whichever answers
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: httpx.post(f"{url}/v1/sentiment", json={"inputs": f"film {i}"},
                                                         timeout=20), range(n)))
        assert [a.status_code for a in answers] == [200] * n
        # Whichever worker answers a scrape, the counts are those of both.
        for _ in range(4):
            with httpx.Client() as fresh:  # a new connection each time: the kernel picks the worker
                text = fresh.get(f"{url}/metrics", timeout=5).text
            ok = 'serve_requests_total{model="sentiment",route="/v1/sentiment",status_class="2xx"}'
            assert _total(text, ok) == n
            assert _total(text, 'serve_items_processed_total{model="sentiment"}') == n
            assert _total(text, "serve_ready ") == 1.0
        served = [w for w in workers if w.cpu_times().user + w.cpu_times().system > 0]
        assert len(served) == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in output and output.count("batchers drained") == 2


@pytest.mark.slow
def test_a_client_that_leaves_has_its_queued_item_dropped(repository, tmp_path):
    """The request waits for a slow partial batch; its client gives up first: the item is never
    run and the request is counted as 4xx (499, client closed request)."""
    url, process, log = start_serve(repository, tmp_path, "--max-wait-ms", "3000", "--intra-op-threads", "1")
    try:
        wait_for(lambda: _ready(url), 60)
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/v1/sentiment", json={"inputs": "a film"}, timeout=0.5)
        gone = 'serve_requests_total{model="sentiment",route="/v1/sentiment",status_class="4xx"}'
        wait_for(lambda: gone in httpx.get(f"{url}/metrics", timeout=5).text, 10)
        time.sleep(3.5)  # past the batch's wait: had the item stayed, it would have run by now
        text = httpx.get(f"{url}/metrics", timeout=5).text
        assert _total(text, gone) == 1.0
        assert 'serve_items_processed_total{model="sentiment"}' not in text
        assert _total(text, 'serve_queue_depth_items{model="sentiment"}') == 0.0
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
