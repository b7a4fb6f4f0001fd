"""The CPU image, built and run: as its non-root user, on a read-only model repository that
`distill export` wrote under the default umask, published on loopback only.

Checks readiness, /v1/sentiment (the same scores as the service outside the container),
/v2/models/<m>/infer, /metrics, the image's HEALTHCHECK command (run with `exec`), a Prometheus
scraping the container with docker/prometheus.yml's job, the one-line failure on an unreadable
repository, and SIGTERM with requests in flight: every accepted request answered, exit status 0.

Needs podman or docker able to run containers (scripts/install-podman.sh); skipped, saying why,
where neither can. See tests/deploy/engine.py for the base image and the build cache."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import math
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import yaml

from bench.harness.server import free_port
from tests.deploy import names
from tests.deploy.engine import Engine, EngineUnavailable, cpu_image, find_engine
from tests.deploy.test_prometheus import JOB, answers, binary, prometheus_config, prometheus_process
from tests.service.conftest import serving
from tests.service.test_startup_shutdown import wait_for
from tests.tiny import write_student

pytestmark = pytest.mark.slow
TEXTS = ["a wonderful and moving film", "the worst movie of the year"]
SERVE_FLAGS = ["--intra-op-threads", "1", "--warmup-batches", "1"]
READY_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def engine() -> Engine:
    try:
        return find_engine()
    except EngineUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def image(engine) -> str:
    return cpu_image(engine)


@pytest.fixture(scope="module")
def model_repository(tmp_path_factory) -> Path:
    """models/sentiment written by the `distill export` command under umask 022 from a tiny
    student; the repository is made by the export itself (the test's own folders are 0700)."""
    tmp = tmp_path_factory.mktemp("container")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        student = write_student(tmp / "run" / "student")
    repository = tmp / "models"
    export = subprocess.run(
        [sys.executable, "-m", "distill.cli", "export", "--student-dir", str(student),
         "--output-dir", str(repository / "sentiment"), "--variants", "fp32,int8"],
        cwd=names.ROOT, capture_output=True, text=True, timeout=300, umask=0o022,
    )
    assert export.returncode == 0, export.stderr[-3000:]
    return repository


class Container:
    def __init__(self, engine: Engine, name: str, url: str):
        self.engine, self.name, self.url = engine, name, url

    def logs(self) -> str:
        done = self.engine.run("logs", self.name, check=False, timeout=30)
        return (done.stdout + done.stderr)[-4000:]

    def state(self, field: str) -> str:
        return self.engine.run("inspect", "--format", f"{{{{.State.{field}}}}}", self.name).stdout.strip()

    def wait_ready(self, client: httpx.Client) -> None:
        def ready() -> bool:
            if self.state("Running") != "true":
                raise AssertionError("the container stopped before it was ready")
            return answers(client, f"{self.url}/readyz")

        try:
            wait_for(ready, READY_TIMEOUT_S)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; its output:\n{self.logs()}") from None


@contextlib.contextmanager
def running(engine: Engine, image: str, repository: Path, *flags: str) -> Iterator[Container]:
    """The image run as the README runs it (published on 127.0.0.1 only), removed afterwards."""
    port, name = free_port(), f"distilserve-test-{os.getpid()}-{time.monotonic_ns()}"
    engine.run("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000",
               "-v", f"{repository}:/models:ro", image, *SERVE_FLAGS, *flags)
    try:
        yield Container(engine, name, f"http://127.0.0.1:{port}")
    finally:
        engine.run("rm", "-f", name, check=False, timeout=60)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def container(engine, image, model_repository, client) -> Iterator[Container]:
    with running(engine, image, model_repository) as started:
        started.wait_ready(client)
        yield started


def test_image_runs_as_its_non_root_user(engine, container):
    user = engine.run("inspect", "--format", "{{.Config.User}}", container.name).stdout.strip()
    assert user.split(":")[0] == "10001"
    assert engine.run("exec", container.name, "id", "-u").stdout.strip() == "10001"
    write = engine.run("exec", "--user", "0", container.name, "touch", "/models/written", check=False)
    assert write.returncode != 0 and "Read-only file system" in write.stdout + write.stderr


def test_sentiment_scores_are_those_of_the_service_outside_the_container(container, client, model_repository):
    inside = client.post(f"{container.url}/v1/sentiment", json={"inputs": TEXTS})
    assert inside.status_code == 200, inside.text
    with serving(model_repository) as local:
        outside = local.post("/v1/sentiment", json={"inputs": TEXTS})
    assert outside.status_code == 200, outside.text
    got, want = _label_scores(inside.json()), _label_scores(outside.json())
    assert len(got) >= len(TEXTS) and [label for label, _ in got] == [label for label, _ in want]
    assert [score for _, score in got] == pytest.approx([score for _, score in want], abs=1e-5)


def _label_scores(body) -> list[tuple[str, float]]:
    """(label, score) pairs of a /v1/sentiment answer, in order, however they are nested."""
    if isinstance(body, dict):
        return [(body["label"], body["score"])]
    return [pair for item in body for pair in _label_scores(item)]


def test_open_inference_protocol_infer(container, client):
    body = {"inputs": [{"name": "text", "shape": [len(TEXTS)], "datatype": "BYTES", "data": TEXTS}]}
    response = client.post(f"{container.url}/v2/models/sentiment/infer", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["model_name"] == "sentiment"
    assert result["outputs"] and all(o["shape"][0] == len(TEXTS) for o in result["outputs"])


def test_metrics_are_served(container, client):
    client.post(f"{container.url}/v1/sentiment", json={"inputs": TEXTS[0]})
    text = client.get(f"{container.url}{names.route_of('metrics')}").text
    assert f"{names.family('ready')} 1.0" in text
    assert f'{names.family("requests")}_total{{' in text


def test_healthcheck_command_passes_and_can_fail(engine, container, image):
    config = json.loads(engine.run("image", "inspect", "--format", "{{json .Config.Healthcheck}}", image).stdout)
    kind, *command = config["Test"]
    assert kind == "CMD" and command, config
    assert engine.run("exec", container.name, *command, check=False).returncode == 0
    port_env = names.env_name("port")
    broken = engine.run("exec", "-e", f"{port_env}=1", container.name, *command, check=False)
    assert broken.returncode != 0, "the health check passes with nothing listening"


def test_prometheus_scrapes_the_container_as_compose_wires_it(container, client, tmp_path):
    """docker/prometheus.yml's job, its target the published port instead of `serve:8000`."""
    port = int(container.url.rsplit(":", 1)[1])
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(port)))
    prometheus_port = free_port()
    url = f"http://127.0.0.1:{prometheus_port}"
    argv = [binary("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}", "--log.level=warn"]

    def value(promql: str) -> float:
        body = client.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5).json()
        result = body["data"]["result"]
        return float(result[0]["value"][1]) if result else math.nan

    with prometheus_process(argv, tmp_path / "prometheus.log"):
        wait_for(lambda: answers(client, f"{url}/-/ready"), 15)
        client.post(f"{container.url}/v1/sentiment", json={"inputs": TEXTS})
        ready = f'{names.family("ready")}{{job="{JOB}"}}'
        try:
            wait_for(lambda: value(ready) == 1.0, 30)
        except AssertionError as exc:
            raise AssertionError((tmp_path / "prometheus.log").read_text()[-3000:]) from exc
        series = client.get(f"{url}/api/v1/series", params={"match[]": f'{{job="{JOB}"}}'}).json()["data"]
    served = {s["__name__"] for s in series if s["__name__"].startswith(names.metric_prefix())}
    assert f'{names.family("requests")}_total' in served
    assert served <= set(names.series_labels()), served - set(names.series_labels())


def test_unreadable_repository_stops_the_container_in_one_line(engine, image, model_repository, tmp_path):
    repository = tmp_path / "models"
    repository.mkdir(mode=0o755)
    done = subprocess.run(["cp", "-a", str(model_repository / "sentiment"), str(repository)], timeout=60)
    assert done.returncode == 0
    (repository / "sentiment").chmod(0o700)  # what a tempfile.mkdtemp staging folder gives
    run = engine.run("run", "--rm", "-v", f"{repository}:/models:ro", image, *SERVE_FLAGS,
                     check=False, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("serve:")]
    assert errors == ["serve: error: cannot load models: /models/sentiment: not readable by uid 10001 "
                      "(gid 10001), the user serve runs as; make the model repository readable to it, "
                      "e.g. `chmod -R a+rX <repository>` on the host (folders 0755, files 0644), or run "
                      "the container with --user set to the files' owner"], run.stderr
    assert "Traceback" not in run.stderr


def _queued(client: httpx.Client, url: str, n: int) -> bool:
    text = client.get(f"{url}/metrics", timeout=5).text
    return f'{names.family("queue_depth")}{{model="sentiment"}} {float(n)}' in text


def test_sigterm_under_load_answers_every_accepted_request_and_exits_0(engine, image, model_repository):
    """`n` requests queued for one batch (long batch wait), then `stop` (SIGTERM, 45 s grace)."""
    n = 16
    with (running(engine, image, model_repository, "--max-wait-ms", "3000", "--max-batch-items", "64")
          as started, httpx.Client(trust_env=False, timeout=30, limits=httpx.Limits(max_connections=n + 2)) as c):
        started.wait_ready(c)
        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            pending = [pool.submit(c.post, f"{started.url}/v1/sentiment", json={"inputs": f"film number {i}"})
                       for i in range(n)]
            wait_for(lambda: _queued(c, started.url, n), 10)  # all accepted, waiting for their batch
            stop = engine.popen("stop", "-t", "45", started.name)
            responses = [f.result(timeout=60) for f in pending]
        output = stop.communicate(timeout=60)[0]
        assert [r.status_code for r in responses] == [200] * n, [r.text for r in responses]
        assert all(r.headers["X-Batch-Size"] == str(n) for r in responses)
        assert stop.returncode == 0, output
        assert started.state("ExitCode") == "0", started.logs()
        assert "batchers drained" in started.logs()
