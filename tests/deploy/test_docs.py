"""docs/DEPLOY.md against the files it describes: settings, build arguments, paths, alert names,
manifests, and the two `python -c` commands that turn shipped files into Helm values and a
PrometheusRule."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from tests.deploy import manifests, names
from tests.deploy.dockerfiles import parse

DOC = (names.ROOT / "docs" / "DEPLOY.md").read_text()
DOCKERFILE = parse(names.ROOT / "Dockerfile")


def build_args() -> set[str]:
    found = set(DOCKERFILE.global_args)
    for stage in DOCKERFILE.stages:
        found |= set(stage.args())
    return found


def table_rows(first_column: str) -> list[list[str]]:
    """Rows of the markdown table whose first column is a backticked name matching the pattern."""
    rows = []
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(f"`{first_column}`", cells[0]):
            rows.append(cells)
    return rows


def test_every_serve_variable_named_is_a_setting():
    mentioned = set(re.findall(r"\bSERVE_[A-Z0-9_]+", DOC))
    assert mentioned and mentioned <= set(names.env_names()), mentioned - set(names.env_names())


def test_settings_table_gives_the_values_in_effect_in_the_image():
    image = names.settings_from_env(DOCKERFILE.stage("runtime").env())
    rows = table_rows(r"SERVE_[A-Z0-9_]+")
    assert len(rows) >= 10
    for variable, value, _ in rows:
        variable = variable.strip("`")
        field = names.env_names()[variable]
        if value == "—":
            assert getattr(image, field) is None, variable
        else:
            shown = names.settings_from_env({variable: value.strip("`")})
            assert getattr(shown, field) == getattr(image, field), variable


def test_build_arguments_are_the_dockerfiles():
    used = set(re.findall(r"--build-arg (\w+)=", DOC))
    described = {cells[0].strip("`") for cells in table_rows(r"[A-Z_]+") if not cells[0].startswith("`SERVE_")}
    others = next(line for line in DOC.splitlines() if line.startswith("Other build arguments"))
    others += DOC.split(others, 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z_]+)`", others))
    assert used <= build_args(), used - build_args()
    assert described | listed | used == build_args(), (described | listed | used) ^ build_args()


def test_paths_named_exist():
    paths = set(re.findall(r"\b((?:docker|scripts|tests/deploy|docs)/[\w./-]*\w)", DOC))
    assert {"docker/compose.yaml", "docker/compose.gpu.yaml", "docker/k8s"} <= paths
    missing = sorted(p for p in paths if not (names.ROOT / p).exists())
    assert not missing, missing
    for test_file in re.findall(r"`(test_\w+\.py)`", DOC):
        assert (names.ROOT / "tests" / "deploy" / test_file).is_file(), test_file


def test_alert_table_lists_every_rule():
    alerts = {cells[0].strip("`") for cells in table_rows(r"Distilserve\w+")}
    rules = yaml.safe_load((names.DOCKER / "prometheus" / "rules.yml").read_text())
    assert alerts == {r["alert"] for g in rules["groups"] for r in g["rules"]}


def test_k8s_table_lists_every_manifest():
    listed = {cells[0].strip("`") for cells in table_rows(r"[\w-]+\.yaml")}
    assert listed == set(manifests.documents())


def _python_commands() -> list[str]:
    return re.findall(r'^python -c "(.*?)"', DOC, re.M)


def _run(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], cwd=names.ROOT, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_adapter_values_command_gives_the_shipped_rules():
    (code,) = [c for c in _python_commands() if "prometheus-adapter.yaml" in c]
    values = _run(code)
    assert values["rules"] == {"default": False, "custom": manifests.adapter_rules()}


def test_prometheus_rule_command_wraps_the_shipped_rules():
    (code,) = [c for c in _python_commands() if "PrometheusRule" in c]
    rule = _run(code)
    assert rule["kind"] == "PrometheusRule" and rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == yaml.safe_load((names.DOCKER / "prometheus" / "rules.yml").read_text())


@pytest.mark.parametrize("command", ["kubectl apply -k docker/k8s",
                                     "docker compose -f docker/compose.yaml -f docker/compose.gpu.yaml up --build",
                                     "scripts/install-prometheus.sh"])
def test_key_commands_are_given(command):
    assert command in DOC
