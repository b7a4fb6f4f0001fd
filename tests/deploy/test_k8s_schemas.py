"""docker/k8s against the Kubernetes API schemas, offline: `kubernetes-validate` (dev extra) bundles
the OpenAPI schemas of every Kubernetes minor version it supports. Strict: an unknown field fails
too. Checked for the oldest and the newest bundled version; the objects kustomize builds are checked
as well when kubectl is installed."""

from __future__ import annotations

import copy
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

from tests.deploy import manifests, names

# Not Kubernetes API objects: kustomize's own file, and the Prometheus Operator's custom resource
# (its schema comes with the operator's CRDs, which are not bundled).
WITHOUT_SCHEMA = {"Kustomization", "ServiceMonitor"}
VERSIONS = sorted(set(all_versions()), key=lambda v: tuple(int(p) for p in v.split(".")))
CHECKED_VERSIONS = [VERSIONS[0], VERSIONS[-1]]
OBJECTS = [(f"{file}:{doc['kind']}", doc) for file, docs in manifests.documents().items() for doc in docs]


def validate(obj: dict, version: str) -> None:
    kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("version", CHECKED_VERSIONS)
@pytest.mark.parametrize("name,obj", OBJECTS, ids=[name for name, _ in OBJECTS])
def test_manifest_validates_against_the_api_schema(name, obj, version):
    if obj["kind"] in WITHOUT_SCHEMA:
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            validate(obj, version)
        return
    validate(obj, version)


def test_every_kind_but_the_listed_ones_has_a_schema():
    kinds = {obj["kind"] for _, obj in OBJECTS}
    assert WITHOUT_SCHEMA <= kinds
    assert len(kinds - WITHOUT_SCHEMA) >= 6


@pytest.mark.parametrize("damage", ["port name as number", "unknown field"])
def test_the_validator_rejects_a_damaged_deployment(damage):
    deployment = copy.deepcopy(manifests.one("Deployment"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    if damage == "port name as number":
        container["ports"][0]["containerPort"] = "http"
    else:
        container["imagePullPolice"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment, CHECKED_VERSIONS[-1])


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_output_validates():
    built = subprocess.run(["kubectl", "kustomize", str(names.K8S)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    objects = [d for d in yaml.safe_load_all(built.stdout) if d]
    assert objects
    for obj in objects:
        if obj["kind"] not in WITHOUT_SCHEMA:
            validate(obj, CHECKED_VERSIONS[-1])
