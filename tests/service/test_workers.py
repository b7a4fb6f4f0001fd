"""Serving processes seen from outside: `serve --workers N` (several processes on one port, their
metrics gathered into one view), and a client that leaves before its answer."""

from __future__ import annotations

import concurrent.futures
import os
import re
import signal
import subprocess
import threading
import time

import httpx
import psutil
import pytest

from tests.service.test_startup_shutdown import ROOT, SERVE, _ready, free_port, wait_for


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
        spawned = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(spawned) == 3, [c.cmdline() for c in children]  # two HTTP workers, one model process
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


def _model_process_pid(log_path) -> int:
    found = re.findall(r"model process (\d+) loaded", log_path.read_text())
    assert found, log_path.read_text()[-2000:]
    return int(found[0])


def _post_all(url: str, count: int, timeout: float, answer=lambda response: response.status_code) -> list:
    """`count` requests at once, each on its own thread; each `answer(response)` or the exception."""
    outcomes: list = [None] * count

    def one(i: int) -> None:
        try:
            outcomes[i] = answer(httpx.post(f"{url}/v1/sentiment", json={"inputs": f"film {i}"}, timeout=timeout))
        except httpx.HTTPError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    return outcomes, threads


def _serve_with_queued(repository, tmp_path, count: int, max_wait_ms: int, *flags: str,
                       answer=lambda response: response.status_code):
    """`serve --workers 2` with `count` requests waiting in the model process for company (a batch
    runs at 64 items or after `max_wait_ms`): (process, its log file, each request's `answer` once
    its thread ends, the threads)."""
    url, process, log = start_serve(repository, tmp_path, "--workers", "2", "--max-wait-ms", str(max_wait_ms),
                                    "--max-batch-items", "64", *flags)
    wait_for(lambda: _ready(url), 60)
    outcomes, threads = _post_all(url, count, timeout=30, answer=answer)
    depth = 'serve_queue_depth_items{model="sentiment"}'
    wait_for(lambda: depth in (t := httpx.get(f"{url}/metrics", timeout=5).text) and _total(t, depth) == count, 10)
    return url, process, log, outcomes, threads


@pytest.mark.slow
def test_sigterm_answers_every_accepted_request_before_the_model_process_stops(repository, tmp_path):
    url, process, log, outcomes, threads = _serve_with_queued(repository, tmp_path, 6, 1500)
    try:
        process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(40)
        assert outcomes == [200] * 6
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


@pytest.mark.slow
def test_without_restarts_a_killed_model_process_fails_waiting_requests_and_stops_the_server(repository, tmp_path):
    url, process, log, outcomes, threads = _serve_with_queued(repository, tmp_path, 8, 20000,
                                                              "--model-process-restarts", "0")
    try:
        os.kill(_model_process_pid(tmp_path / "serve.log"), signal.SIGKILL)
        for thread in threads:
            thread.join(40)
        assert not any(thread.is_alive() for thread in threads)  # nothing hangs
        assert outcomes == [503] * 8  # answered at once, long before their 20 s wait
        try:  # not ready from then on (or no longer listening, as the workers stop)
            assert httpx.get(f"{url}/readyz", timeout=5).status_code == 503
        except httpx.TransportError:
            pass
        assert process.wait(timeout=30) == 3  # the supervisor stops: the orchestrator restarts it
    finally:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "the model process died (killed by SIGKILL); restarts are off" in output
