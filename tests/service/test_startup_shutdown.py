"""The `serve` command: --help, start-up failures, --skip-bad-models, graceful SIGTERM drain."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from modelfolder.manifest import ModelFolderError
from service.serving.loading import load_models
from service.settings import settings_from_cli
from tests.service.conftest import make_settings, serving

ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, "-m", "service"]


def run_serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*SERVE, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_help_lists_every_option():
    result = subprocess.run([str(Path(sys.executable).parent / "serve"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for flag in ("--host", "--port", "--model-repository", "--models", "--variant", "--providers",
                 "--intra-op-threads", "--max-batch-items", "--max-batch-tokens", "--max-wait-ms",
                 "--queue-limit", "--request-timeout-s", "--api-key", "--max-body-bytes",
                 "--max-inputs", "--max-text-chars", "--skip-bad-models", "--sentiment-model",
                 "--qa-max-context-chars", "--qa-max-question-tokens", "--qa-max-windows"):
        assert flag in result.stdout, flag
    assert "SERVE_" in result.stdout


def test_flags_override_environment(monkeypatch):
    monkeypatch.setenv("SERVE_PORT", "9100")
    monkeypatch.setenv("SERVE_MAX_WAIT_MS", "7")
    settings = settings_from_cli(["--max-wait-ms", "3", "--models", "a,b", "--skip-bad-models"])
    assert (settings.port, settings.max_wait_ms, settings.models, settings.skip_bad_models) == (
        9100, 3.0, ["a", "b"], True)


@pytest.mark.parametrize("value", ["sentiment,qa", " sentiment , qa ", '["sentiment", "qa"]'])
def test_list_settings_from_the_environment(monkeypatch, value):
    monkeypatch.setenv("SERVE_MODELS", value)
    monkeypatch.setenv("SERVE_PROVIDERS", "CPUExecutionProvider")
    settings = settings_from_cli([])
    assert settings.models == ["sentiment", "qa"] and settings.providers == ["CPUExecutionProvider"]


def test_bad_model_folder_fails_start_up_naming_folder_and_problem(broken_repository):
    result = run_serve("--model-repository", str(broken_repository), "--port", "1")
    assert result.returncode == 1
    assert "corrupt" in result.stderr and "checksum" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("workers", ["1", "2"])  # loaded by serve itself, or by the model process
def test_a_flipped_byte_in_an_onnx_file_is_refused_naming_the_file(repository, tmp_path, workers):
    folder = tmp_path / "models" / "sentiment"
    shutil.copytree(repository / "sentiment", folder)
    onnx = folder / "model.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one weight: same size, still a valid graph
    onnx.write_bytes(bytes(data))
    result = run_serve("--model-repository", str(tmp_path / "models"), "--workers", workers, "--port", str(free_port()))
    assert result.returncode == 1
    assert f"{folder}/model.onnx: wrong checksum for variant 'fp32'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_repository_and_bad_setting_fail_cleanly(tmp_path):
    missing = run_serve("--model-repository", str(tmp_path / "absent"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    bad = run_serve("--max-inputs", "5000", "--queue-limit", "10")
    assert bad.returncode == 2 and "queue_limit" in bad.stderr
    for result in (missing, bad):
        assert "Traceback" not in result.stderr


def test_skip_bad_models_reports_them(broken_repository):
    with pytest.raises(ModelFolderError, match="corrupt"):
        load_models(make_settings(broken_repository))
    with serving(broken_repository, skip_bad_models=True) as client:
        listing = client.get("/v1/models").json()
        assert [m["name"] for m in listing["models"]] == ["sentiment"]
        (failed,) = listing["failed"]
        assert failed["name"] == "corrupt" and "checksum" in failed["error"]
        assert client.post("/v1/sentiment", json={"inputs": "fine"}).status_code == 200


def test_models_flag_loads_only_the_named_ones(repository):
    with serving(repository, models=["topic"]) as client:
        assert [m["name"] for m in client.get("/v1/models").json()["models"]] == ["topic"]
        assert client.post("/v1/sentiment", json={"inputs": "x"}).status_code == 404


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _queued(url: str, n: int) -> bool:
    text = httpx.get(f"{url}/metrics", timeout=2).text
    return f'serve_queue_depth_items{{model="sentiment"}} {float(n)}' in text


@pytest.mark.slow
def test_sigterm_finishes_every_accepted_request_then_exits_0(repository, tmp_path):
    port, n = free_port(), 6
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "w")
    process = subprocess.Popen(
        [*SERVE, "--model-repository", str(repository), "--port", str(port), "--intra-op-threads", "1",
         "--warmup-batches", "1", "--max-wait-ms", "1500", "--max-batch-items", "32"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: _ready(url), 30)
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            pending = [pool.submit(httpx.post, f"{url}/v1/sentiment",
                                   json={"inputs": f"film number {i}"}, timeout=20) for i in range(n)]
            wait_for(lambda: _queued(url, n), 10)  # all accepted, waiting for their batch
            process.send_signal(signal.SIGTERM)
            responses = [f.result(timeout=20) for f in pending]
        assert [r.status_code for r in responses] == [200] * n
        assert all(r.headers["X-Batch-Size"] == str(n) for r in responses)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in output and "batchers drained" in output
