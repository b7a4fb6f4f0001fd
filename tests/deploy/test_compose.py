"""docker/compose.yaml, docker/prometheus.yml and Grafana provisioning: the pieces find each other
(mounts, ports, service names) and the service's real settings and routes."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.deploy import names
from tests.deploy.dockerfiles import parse

COMPOSE = yaml.safe_load((names.DOCKER / "compose.yaml").read_text())
GPU_OVERRIDE = yaml.safe_load((names.DOCKER / "compose.gpu.yaml").read_text())
PROMETHEUS = yaml.safe_load((names.DOCKER / "prometheus.yml").read_text())
SERVICES = COMPOSE["services"]
PROMETHEUS_PORT = 9090  # the port Prometheus listens on in its image
GRAFANA_PORT = 3000


def expand(value: str) -> str:
    """Compose's ${VAR:-default}, taking the default."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), str(value))


def mounts(service: str) -> list[tuple[str, str]]:
    """(host path resolved from docker/, container path) of a service's bind mounts."""
    result = []
    for volume in SERVICES[service].get("volumes", []):
        source, target = expand(volume).split(":")[:2]
        if source.startswith((".", "/")):
            result.append(((names.DOCKER / source).resolve().as_posix(), target))
    return result


def host_path(service: str, container_path: str) -> str | None:
    """The host file behind a path inside a service's container, through its bind mounts."""
    best = None
    for source, target in mounts(service):
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            if best is None or len(target) > len(best[1]):
                best = (source, target)
    if best is None:
        return None
    return best[0] + container_path[len(best[1]):]


def serve_env() -> dict[str, str]:
    return {k: str(v) for k, v in SERVICES["serve"]["environment"].items()}


def test_serve_environment_names_real_settings():
    env = serve_env()
    unknown = set(env) - set(names.env_names())
    assert not unknown, f"not settings of the service: {unknown}"
    settings = names.settings_from_env(env)
    assert settings.host == "0.0.0.0"


def test_serve_is_built_from_the_repository_dockerfile():
    build = SERVICES["serve"]["build"]
    context = (names.DOCKER / build["context"]).resolve()
    assert context == names.ROOT
    assert (context / build["dockerfile"]).is_file()
    assert expand(build["args"]["TARGET"]) in ("cpu", "gpu")
    stages = {s.name for s in parse(names.ROOT / build["dockerfile"]).stages}
    assert expand(build["target"]) == "runtime-mounted" and build["target"].startswith("runtime-${MODELS:-")
    assert {build["target"].replace("${MODELS:-mounted}", m) for m in ("mounted", "baked")} <= stages


def test_serve_port_and_model_repository_match_its_settings():
    settings = names.settings_from_env(serve_env())
    published = [expand(p).split(":") for p in SERVICES["serve"]["ports"]]
    assert [int(container) for _, container in published] == [settings.port]
    targets = [expand(v).split(":")[1] for v in SERVICES["serve"]["volumes"]]
    assert str(settings.model_repository) in targets


def test_serve_stops_gracefully_within_the_request_deadline():
    settings = names.settings_from_env(serve_env())
    grace = SERVICES["serve"]["stop_grace_period"]
    assert grace.endswith("s") and float(grace[:-1]) > settings.request_timeout_s


def test_gpu_override_selects_the_gpu_image_and_reserves_a_gpu():
    serve = GPU_OVERRIDE["services"]["serve"]
    assert serve["build"]["args"]["TARGET"] == "gpu"
    devices = serve["deploy"]["resources"]["reservations"]["devices"]
    assert devices and devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert set(GPU_OVERRIDE["services"]) <= set(SERVICES)


def test_prometheus_scrapes_the_serve_service_at_its_metrics_route():
    settings = names.settings_from_env(serve_env())
    jobs = PROMETHEUS["scrape_configs"]
    assert len(jobs) == 1
    job = jobs[0]
    assert job["metrics_path"] == names.route_of("metrics")
    targets = [t for sc in job["static_configs"] for t in sc["targets"]]
    assert targets == [f"serve:{settings.port}"]
    assert "serve" in SERVICES


def test_alert_rules_use_the_scrape_job_name():
    job = PROMETHEUS["scrape_configs"][0]["job_name"]
    rules = yaml.safe_load((names.DOCKER / "prometheus" / "rules.yml").read_text())
    jobs_named = {e.split('job="', 1)[1].split('"', 1)[0]
                  for g in rules["groups"] for r in g["rules"] for e in [r["expr"]] if 'job="' in e}
    assert jobs_named == {job}


def test_prometheus_container_reads_the_shipped_config_and_rules():
    command = SERVICES["prometheus"]["command"]
    config_path = next(a.split("=", 1)[1] for a in command if a.startswith("--config.file="))
    assert host_path("prometheus", config_path) == (names.DOCKER / "prometheus.yml").as_posix()
    config_dir = PurePosixPath(config_path).parent
    for rule_file in PROMETHEUS["rule_files"]:
        inside = (config_dir / rule_file).as_posix()
        on_host = host_path("prometheus", inside)
        assert on_host is not None, f"{inside} is not mounted into the prometheus container"
        assert (names.DOCKER / rule_file).resolve().as_posix() == on_host
        assert Path(on_host).is_file()


def test_grafana_data_source_points_at_the_prometheus_service():
    provisioning = next(t for s, t in mounts("grafana") if s.endswith("grafana/provisioning"))
    assert provisioning == "/etc/grafana/provisioning"
    sources = yaml.safe_load(
        (names.DOCKER / "grafana/provisioning/datasources/prometheus.yaml").read_text())["datasources"]
    assert [s["type"] for s in sources] == ["prometheus"]
    assert sources[0]["url"] == f"http://prometheus:{PROMETHEUS_PORT}"
    assert "prometheus" in SERVICES
    assert any(expand(p).endswith(f":{PROMETHEUS_PORT}") for p in SERVICES["prometheus"]["ports"])
    assert any(expand(p).endswith(f":{GRAFANA_PORT}") for p in SERVICES["grafana"]["ports"])


def test_grafana_dashboard_provider_loads_the_serving_dashboard():
    providers = yaml.safe_load(
        (names.DOCKER / "grafana/provisioning/dashboards/distilserve.yaml").read_text())["providers"]
    path = providers[0]["options"]["path"]
    on_host = host_path("grafana", path)
    assert on_host is not None and on_host.endswith("grafana/dashboards")
    dashboard = json.loads((names.DOCKER / "grafana/dashboards/serving.json").read_text())
    assert dashboard["uid"]
    home = SERVICES["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert host_path("grafana", home) == (names.DOCKER / "grafana/dashboards/serving.json").as_posix()


@pytest.mark.parametrize("service", ["prometheus", "grafana"])
def test_third_party_images_are_pinned(service):
    image = SERVICES[service]["image"]
    name, _, tag = image.partition(":")
    assert tag and tag != "latest" and tag.count(".") == 2, image
