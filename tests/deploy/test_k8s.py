"""docker/k8s against the service and against each other: ports, probes, settings, drain time,
resources, selectors, the autoscaler's metrics and the adapter rules behind them."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy import manifests, names
from tests.deploy.dockerfiles import parse

DEPLOYMENT = manifests.one("Deployment")
POD = DEPLOYMENT["spec"]["template"]
SERVICE = manifests.one("Service")
HPA = manifests.one("HorizontalPodAutoscaler")
PDB = manifests.one("PodDisruptionBudget")
MONITOR = manifests.one("ServiceMonitor")
CLAIM = manifests.one("PersistentVolumeClaim")
KUSTOMIZATION = manifests.one("Kustomization")
RUNTIME = parse(names.ROOT / "Dockerfile").stage("runtime")


def settings():
    return names.settings_from_env(manifests.container_env())


def seconds(duration: str) -> float:
    """Prometheus durations as used here: 15s, 2m, 1h."""
    match = re.fullmatch(r"(\d+)(s|m|h)", duration)
    assert match, duration
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]


def port_names() -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in manifests.container()["ports"]}


def test_every_manifest_is_a_kubernetes_object():
    for file_name, docs in manifests.documents().items():
        assert docs, file_name
        for doc in docs:
            assert doc["apiVersion"] and doc["kind"], file_name
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], file_name


def test_kustomization_applies_every_manifest_but_the_adapter_rules():
    applied = set(KUSTOMIZATION["resources"])
    expected = set(manifests.documents()) - {"kustomization.yaml", "prometheus-adapter.yaml"}
    assert applied == expected
    assert manifests.one("ConfigMap")["metadata"]["namespace"] == "monitoring"


def test_kustomization_image_override_names_the_container_image():
    image, _, tag = manifests.container()["image"].partition(":")
    (override,) = KUSTOMIZATION["images"]
    assert override["name"] == image == "distilserve"
    assert override["newTag"] == tag and tag in ("cpu", "gpu")


# ---- the container against the service's settings, routes and image -----------------------------

def test_environment_names_real_settings_and_validates():
    env = manifests.container_env()
    unknown = set(env) - set(names.env_names())
    assert not unknown, f"not settings of the service: {unknown}"
    current = settings()
    assert current.host == "0.0.0.0"
    assert current.max_inputs <= current.queue_limit


@pytest.mark.parametrize("file_name", sorted(manifests.documents()))
def test_serve_variables_mentioned_anywhere_are_real(file_name):
    """Comments included: the deployment documents SERVE_API_KEY and the GPU threads setting."""
    mentioned = set(re.findall(r"\bSERVE_[A-Z0-9_]+", manifests.text(file_name)))
    assert mentioned <= set(names.env_names()), mentioned - set(names.env_names())


def test_container_port_is_the_port_the_service_listens_on():
    ports = port_names()
    assert ports == {"http": settings().port}
    image_default = names.settings_from_env(RUNTIME.env()).port
    assert ports["http"] == image_default == 8000
    assert manifests.container_env()[names.env_name("port")] == str(ports["http"])


@pytest.mark.parametrize("probe,endpoint", [
    ("startupProbe", "healthz"), ("livenessProbe", "healthz"), ("readinessProbe", "readyz"),
])
def test_probes_use_the_health_routes_on_the_named_port(probe, endpoint):
    get = manifests.container()[probe]["httpGet"]
    assert get["path"] == names.route_of(endpoint) == f"/{endpoint}"
    assert get["port"] in port_names()


def test_model_repository_is_the_claim_mounted_read_only_where_the_settings_look():
    spec = POD["spec"]
    volume = next(v for v in spec["volumes"] if "persistentVolumeClaim" in v)
    assert volume["persistentVolumeClaim"]["claimName"] == CLAIM["metadata"]["name"]
    mount = next(m for m in manifests.container()["volumeMounts"] if m["name"] == volume["name"])
    assert mount["mountPath"] == str(settings().model_repository) == "/models"
    assert mount["readOnly"] is True
    assert "ReadWriteMany" in CLAIM["spec"]["accessModes"]


def test_termination_grace_covers_the_pre_stop_sleep_and_the_longest_request():
    pre_stop = manifests.container()["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    grace = POD["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(pre_stop[1]) + settings().request_timeout_s, (grace, pre_stop, settings().request_timeout_s)


def test_runs_as_the_image_user_with_a_read_only_root():
    uid = int(RUNTIME.all("USER")[-1].args.split(":")[0])
    assert POD["spec"]["securityContext"]["runAsUser"] == uid
    assert POD["spec"]["securityContext"]["runAsNonRoot"] is True
    assert manifests.container()["securityContext"]["readOnlyRootFilesystem"] is True
    tmp = next(m for m in manifests.container()["volumeMounts"] if m["mountPath"] == "/tmp")
    assert any(v["name"] == tmp["name"] and "emptyDir" in v for v in POD["spec"]["volumes"])


def test_resource_requests_fit_the_onnx_runtime_threads():
    resources = manifests.container()["resources"]
    requests, limits = resources["requests"], resources["limits"]
    assert requests["cpu"] and requests["memory"], "the CPU-utilisation HPA needs requests"
    cpus = float(str(requests["cpu"]).rstrip("m")) / (1000 if str(requests["cpu"]).endswith("m") else 1)
    assert 1 <= settings().intra_op_threads <= cpus
    to_mi = {"Mi": 1, "Gi": 1024}
    memory = {k: int(v[:-2]) * to_mi[v[-2:]] for k, v in (("request", requests["memory"]), ("limit", limits["memory"]))}
    assert memory["limit"] >= memory["request"]


def test_gpu_request_is_documented_not_active():
    text = manifests.text("deployment.yaml")
    assert "nvidia.com/gpu" not in str(manifests.container()["resources"])  # CPU image by default
    assert re.search(r"^\s*#\s*nvidia\.com/gpu: 1\s*$", text, re.M), "the GPU limit is not shown"
    target = re.search(r"TARGET=(\w+)", text).group(1)
    assert target == "gpu" == parse(names.ROOT / "Dockerfile").global_args["TARGET"]


# ---- selectors ---------------------------------------------------------------------------------

def _subset(labels: dict, of: dict) -> bool:
    return labels.items() <= of.items()


def test_deployment_selector_matches_its_pods():
    selector = DEPLOYMENT["spec"]["selector"]["matchLabels"]
    assert selector and _subset(selector, POD["metadata"]["labels"])


def test_service_selects_the_pods_and_targets_the_named_port():
    assert _subset(SERVICE["spec"]["selector"], POD["metadata"]["labels"])
    (port,) = SERVICE["spec"]["ports"]
    assert port["targetPort"] in port_names()


def test_pdb_selects_the_deployments_pods_and_lets_a_drain_proceed():
    assert PDB["spec"]["selector"]["matchLabels"] == DEPLOYMENT["spec"]["selector"]["matchLabels"]
    min_available = PDB["spec"]["minAvailable"]
    assert min_available < HPA["spec"]["minReplicas"] and min_available < DEPLOYMENT["spec"]["replicas"]


def test_service_monitor_scrapes_the_metrics_route_on_the_service_port():
    assert _subset(MONITOR["spec"]["selector"]["matchLabels"], SERVICE["metadata"]["labels"])
    (endpoint,) = MONITOR["spec"]["endpoints"]
    assert endpoint["path"] == names.route_of("metrics") == "/metrics"
    assert endpoint["port"] in {p["name"] for p in SERVICE["spec"]["ports"]}
    assert seconds(endpoint["scrapeTimeout"]) < seconds(endpoint["interval"])


def test_scraped_job_is_the_job_the_alert_rules_expect():
    """The Prometheus Operator names the job after the Service unless jobLabel says otherwise."""
    assert "jobLabel" not in MONITOR["spec"]
    rules = (names.DOCKER / "prometheus" / "rules.yml").read_text()
    assert set(re.findall(r'job="([^"]+)"', rules)) == {SERVICE["metadata"]["name"]}


# ---- autoscaling -------------------------------------------------------------------------------

def test_hpa_scales_the_deployment():
    ref = HPA["spec"]["scaleTargetRef"]
    assert (ref["apiVersion"], ref["kind"], ref["name"]) == (
        DEPLOYMENT["apiVersion"], DEPLOYMENT["kind"], DEPLOYMENT["metadata"]["name"])
    assert HPA["spec"]["minReplicas"] <= DEPLOYMENT["spec"]["replicas"] <= HPA["spec"]["maxReplicas"]


def test_hpa_scales_on_cpu_and_on_the_queue_depth_served_by_the_adapter():
    metrics = HPA["spec"]["metrics"]
    assert {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
            "averageUtilization": 70}}} in metrics
    pods = [m["pods"] for m in metrics if m["type"] == "Pods"]
    served = manifests.adapter_metrics()
    assert [p["metric"]["name"] for p in pods] == [names.family("queue_depth")]
    for p in pods:
        rule = served[p["metric"]["name"]]  # KeyError: no adapter rule serves this metric
        assert names.family_of(manifests.adapter_series(rule)) == names.family("queue_depth")
        assert p["target"]["type"] == "AverageValue"
        # scale out well before the queue is full (429s)
        assert 0 < float(p["target"]["averageValue"]) < settings().queue_limit


def test_the_documented_latency_metric_is_served_by_the_adapter():
    documented = re.findall(r"^#\s+name:\s*(\S+)\s*$", manifests.text("hpa.yaml"), re.M)
    assert documented == ["serve_request_duration_seconds_p99"]
    rule = manifests.adapter_metrics()[documented[0]]
    assert manifests.adapter_series(rule) == names.family("request_duration") + "_bucket"
    assert manifests.render_adapter_query(rule, 'pod="p"', "pod").startswith("histogram_quantile(0.99,")


@pytest.mark.parametrize("rule", manifests.adapter_rules(), ids=lambda r: r.get("name", {}).get("as", "?"))
def test_adapter_rules_query_real_series_per_pod(rule):
    manifests.adapter_metric(rule)  # name.matches matches the series
    series = manifests.adapter_series(rule)
    assert series in names.series_labels(), series
    assert names.problems(rule["seriesQuery"]) == []
    assert rule["resources"]["overrides"] == {"namespace": {"resource": "namespace"},
                                             "pod": {"resource": "pod"}}
    query = manifests.render_adapter_query(rule, 'namespace="default",pod=~"a|b"', "pod")
    assert "<<" not in query
    assert names.problems(query) == []
    assert names.selectors(query)[0].name == series
    interval = seconds(MONITOR["spec"]["endpoints"][0]["interval"])
    for window in re.findall(r"\[(\d+[smh])\]", query):
        assert seconds(window) >= 4 * interval, f"rate window {window} is too short for a {interval}s scrape"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_builds_the_objects_with_the_common_label():
    built = subprocess.run(["kubectl", "kustomize", str(names.K8S)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    objects = [d for d in yaml.safe_load_all(built.stdout) if d]
    assert sorted(o["kind"] for o in objects) == sorted(
        d["kind"] for f in KUSTOMIZATION["resources"] for d in manifests.documents()[f])
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "distilserve", obj["kind"]
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["spec"]["selector"] == DEPLOYMENT["spec"]["selector"], "the label leaked into selectors"
