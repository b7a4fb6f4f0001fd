"""`serve --workers N` when its model process dies: the waiting requests get 503 with Retry-After
at once, a new model process is started and the server answers 200 again, counted in /metrics;
past `--model-process-restarts` deaths in the window, `serve` exits with status 3."""

from __future__ import annotations

import os
import re
import signal

import httpx
import psutil
import pytest

from tests.service.test_startup_shutdown import _ready, wait_for
from tests.service.test_workers import _serve_with_queued, _total, start_serve

pytestmark = pytest.mark.slow

FULL_BATCH = {"inputs": ["a film"] * 64}  # 64 items: a full batch, run without waiting for company


def _model_processes(log_path) -> list[int]:
    """The model processes' ids in the order they loaded the models."""
    return [int(pid) for pid in re.findall(r"model process (\d+) loaded", log_path.read_text())]


def _stop(process, log) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except Exception:  # noqa: BLE001 - it hangs: take everything down
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait(timeout=10)
    log.close()


def _until_answered(url: str, timeout: float) -> list[tuple[int, str | None]]:
    """POST a full batch until it is answered 200 (bounded); every answer's status and Retry-After."""
    answers: list[tuple[int, str | None]] = []

    def answered() -> bool:
        response = httpx.post(f"{url}/v1/sentiment", json=FULL_BATCH, timeout=30)
        answers.append((response.status_code, response.headers.get("retry-after")))
        return response.status_code == 200

    wait_for(answered, timeout)
    return answers


def test_a_killed_model_process_is_started_again_and_serving_resumes(repository, tmp_path):
    def answer(response):
        return response.status_code, response.headers.get("retry-after"), response.json()["error"]["type"]

    url, process, log, outcomes, threads = _serve_with_queued(repository, tmp_path, 4, 20000, answer=answer)
    try:
        [first] = _model_processes(tmp_path / "serve.log")
        os.kill(first, signal.SIGKILL)
        for thread in threads:
            thread.join(40)
        assert not any(thread.is_alive() for thread in threads)  # nothing hangs
        assert outcomes == [(503, "1", "model_process_gone")] * 4  # each answered once, long before 20 s
        answers = _until_answered(url, 90)  # a new model process loads and warms the model up
        assert all(status == 503 and retry == "1" for status, retry in answers[:-1]), answers
        wait_for(lambda: len(_model_processes(tmp_path / "serve.log")) == 2, 10)
        assert process.poll() is None and psutil.pid_exists(_model_processes(tmp_path / "serve.log")[1])
        wait_for(lambda: _ready(url), 30)
        text = httpx.get(f"{url}/metrics", timeout=5).text
        assert _total(text, 'serve_model_process_restarts_total{reason="SIGKILL"}') == 1.0
    finally:
        _stop(process, log)
    assert process.returncode == 0
    output = (tmp_path / "serve.log").read_text()
    assert f"the model process {first} died (killed by SIGKILL); starting a new one" in output
    assert "Traceback" not in output


def test_past_the_restart_limit_the_server_exits_with_status_3(repository, tmp_path):
    url, process, log = start_serve(repository, tmp_path, "--workers", "2", "--model-process-restarts", "1",
                                    "--model-process-restart-window-s", "600")
    try:
        wait_for(lambda: _ready(url), 60)
        os.kill(_model_processes(tmp_path / "serve.log")[0], signal.SIGKILL)
        wait_for(lambda: len(_model_processes(tmp_path / "serve.log")) == 2, 60)  # restart 1 of 1
        os.kill(_model_processes(tmp_path / "serve.log")[1], signal.SIGKILL)
        assert process.wait(timeout=60) == 3
    finally:
        _stop(process, log)
    output = (tmp_path / "serve.log").read_text()
    assert "died (killed by SIGKILL); 1 restarts within 600 s already; the server stopped" in output
    assert len(_model_processes(tmp_path / "serve.log")) == 2
