"""Prometheus: promtool checks of the shipped config and rules, and a live run in which a real
Prometheus scrapes a real `serve` process under load, evaluates the alert rules and answers the
dashboard's and the adapter's queries with numbers.

Needs the `prometheus` and `promtool` binaries (scripts/install-prometheus.sh); no Docker."""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import shutil
import subprocess
import time
import warnings
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import yaml

from bench.harness.server import free_port, python_server
from service.metrics import LATENCY_BUCKETS
from tests.deploy import manifests, names
from tests.service.model_folders import SENTIMENT_LABELS, build_classifier_folder
from tests.service.test_startup_shutdown import wait_for

RULES = names.DOCKER / "prometheus" / "rules.yml"
RULES_TEST = names.DOCKER / "prometheus" / "rules_test.yml"
JOB = yaml.safe_load((names.DOCKER / "prometheus.yml").read_text())["scrape_configs"][0]["job_name"]
INFERENCE_ROUTES = ("/v1/classify", "/v1/sentiment")
INSTALL_HINT = "run scripts/install-prometheus.sh (it installs prometheus and promtool)"


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not on PATH: {INSTALL_HINT}", pytrace=False)
    return path


def promtool(*args: str) -> str:
    result = subprocess.run([binary("promtool"), *args], cwd=names.ROOT, capture_output=True,
                            text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def rules() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


# ---- static checks -------------------------------------------------------------------------------

def test_promtool_accepts_the_config_and_finds_its_rule_file():
    output = promtool("check", "config", "docker/prometheus.yml")
    assert "SUCCESS: 1 rule files found" in output
    assert f"SUCCESS: {len(rules())} rules found" in output


def test_promtool_accepts_the_rules():
    output = promtool("check", "rules", str(RULES.relative_to(names.ROOT)))
    assert f"SUCCESS: {len(rules())} rules found" in output


def test_promtool_rule_unit_tests_pass():
    assert "SUCCESS" in promtool("test", "rules", str(RULES_TEST.relative_to(names.ROOT)))


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r["alert"])
def test_alert_rules_name_what_the_service_exposes(rule):
    assert names.problems(rule["expr"]) == []


def test_rule_unit_tests_feed_series_the_service_really_has():
    tests = yaml.safe_load(RULES_TEST.read_text())["tests"]
    series = [s["series"] for t in tests for s in t["input_series"]]
    assert any(names.selectors(s) for s in series)
    for text in series:
        assert names.problems(text) == [], text
    tested = {a["alertname"] for t in tests for a in t.get("alert_rule_test", [])}
    assert tested == {r["alert"] for r in rules()}, "an alert rule without a unit test"


# ---- live: serve + Prometheus --------------------------------------------------------------------

@contextlib.contextmanager
def prometheus_process(argv: list[str], log: Path) -> Iterator[subprocess.Popen]:
    """Prometheus as a child process, always ended (it stops within a second on SIGTERM)."""
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            proc.kill()  # nothing once it has exited
            proc.wait(timeout=10)


def answers(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def prometheus_config(serve_port: int) -> dict:
    """docker/prometheus.yml scraping 127.0.0.1:<serve_port> every second, rules by absolute path."""
    config = yaml.safe_load((names.DOCKER / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [(names.DOCKER / f).resolve().as_posix() for f in config["rule_files"]]
    (job,) = config["scrape_configs"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{serve_port}"]}]
    return config


class Stack:
    def __init__(self, client: httpx.Client, serve_url: str, prometheus_url: str, logs: list[Path]):
        self.client, self.serve_url, self.prometheus_url, self.logs = client, serve_url, prometheus_url, logs

    def query(self, promql: str) -> list[dict]:
        response = self.client.get(f"{self.prometheus_url}/api/v1/query", params={"query": promql}, timeout=5)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (promql, body)
        return body["data"]["result"]

    def value(self, promql: str) -> float:
        """The value of a one-sample answer; NaN when there is no sample (yet)."""
        result = self.query(promql)
        assert len(result) <= 1, (promql, result)
        return float(result[0]["value"][1]) if result else math.nan

    def load(self, requests: int = 24) -> None:
        """`requests` concurrent classifications, half on each inference route."""
        assert set(INFERENCE_ROUTES) <= names.routes()

        def post(i: int) -> int:
            route = INFERENCE_ROUTES[i % 2]
            return self.client.post(f"{self.serve_url}{route}", json={"inputs": [f"film number {i}"] * (1 + i % 3)},
                                    timeout=20).status_code
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            assert list(pool.map(post, range(requests))) == [200] * requests

    def logs_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.logs)


def p99_query() -> str:
    bucket = names.family("request_duration") + "_bucket"
    assert bucket in names.series_labels()
    return f'histogram_quantile(0.99, sum by (le) (rate({bucket}{{job="{JOB}", model!=""}}[1m])))'


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    prometheus = binary("prometheus")
    tmp = tmp_path_factory.mktemp("prometheus-live")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.onnx tracer warnings about the random model
        build_classifier_folder(tmp / "models" / "sentiment", SENTIMENT_LABELS)
    prometheus_port = free_port()
    serve_args = ["-m", "service", "--model-repository", str(tmp / "models"), "--host", "127.0.0.1",
                  "--intra-op-threads", "1", "--warmup-batches", "1", "--max-wait-ms", "5"]
    logs = [tmp / "serve.log", tmp / "prometheus.log"]
    with (httpx.Client(trust_env=False, limits=httpx.Limits(max_connections=16)) as client,
          python_server(serve_args, logs[0], ready_timeout=30) as serve):
        serve_url = serve.url
        config = tmp / "prometheus.yml"
        config.write_text(yaml.safe_dump(prometheus_config(int(serve_url.rsplit(":", 1)[1]))))
        prometheus_argv = [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                           f"--web.listen-address=127.0.0.1:{prometheus_port}", "--log.level=warn"]
        with prometheus_process(prometheus_argv, logs[1]):
            stack = Stack(client, serve_url, f"http://127.0.0.1:{prometheus_port}", logs)
            try:
                wait_for(lambda: answers(client, stack.prometheus_url + "/-/ready"), 15)
                # Load in waves until two scrapes have seen the counters grow (rate needs both).
                deadline = time.monotonic() + 30
                while math.isnan(stack.value(p99_query())) and time.monotonic() < deadline:
                    stack.load()
                    time.sleep(0.5)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{stack.logs_tail()}") from exc
            yield stack


@pytest.mark.slow
def test_prometheus_scrapes_the_service(stack):
    result = stack.query(f'up{{job="{JOB}"}}')
    assert [float(s["value"][1]) for s in result] == [1.0], stack.logs_tail()
    assert stack.value(f'{names.family("ready")}{{job="{JOB}"}}') == 1.0


@pytest.mark.slow
def test_p99_request_latency_is_a_number(stack):
    p99 = stack.value(p99_query())
    assert math.isfinite(p99), f"no p99 after 30 s of load\n{stack.logs_tail()}"
    assert 0 < p99 <= max(LATENCY_BUCKETS)


@pytest.mark.slow
def test_batch_size_is_a_number_within_the_batch_limit(stack):
    family = names.family("batch_size")
    assert f"{family}_sum" in names.series_labels() and f"{family}_count" in names.series_labels()
    selector = f'{{job="{JOB}", model="sentiment"}}'
    mean = stack.value(f"sum(rate({family}_sum{selector}[1m])) / sum(rate({family}_count{selector}[1m]))")
    assert math.isfinite(mean) and 1.0 <= mean <= names.cpu_batch_limits().max_items, mean
    assert stack.value(f"sum({family}_count{selector})") >= 1


@pytest.mark.slow
def test_alert_rules_evaluate_on_live_data_without_errors(stack):
    def evaluated() -> list[dict]:
        body = stack.client.get(f"{stack.prometheus_url}/api/v1/rules", timeout=5).json()
        found = [r for g in body["data"]["groups"] for r in g["rules"]]
        return found if found and all(r.get("lastEvaluation", "").startswith("2") for r in found) else []

    wait_for(lambda: evaluated(), 10)
    loaded = evaluated()
    assert {r["name"] for r in loaded} == {r["alert"] for r in rules()}
    for rule in loaded:
        assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))


@pytest.mark.slow
@pytest.mark.parametrize("rule", manifests.adapter_rules(), ids=lambda r: r.get("name", {}).get("as", "?"))
def test_adapter_queries_answer_with_numbers(stack, rule):
    """The adapter's queries as it would send them for this replica (by instance instead of pod)."""
    query = manifests.render_adapter_query(rule, f'job="{JOB}"', "instance")
    result = stack.query(query)
    assert len(result) == 1, (query, result)
    assert math.isfinite(float(result[0]["value"][1])), (query, result)
