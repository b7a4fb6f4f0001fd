"""A container engine for the image tests: find one that can run, make the CPU base image, build
the CPU image of the repository's Dockerfile, cached by what goes into it.

podman runs with the project's own containers.conf (docker/podman/containers.conf, through
CONTAINERS_CONF); docker, when its daemon answers, as it is. The base is the Dockerfile's
PYTHON_IMAGE when it is present or can be pulled, else a Debian bookworm made with mmdebstrap and
imported (`distilserve-base:bookworm`). Both stay in the engine's storage, so a second run on the
same machine neither pulls nor debootstraps; the built image is tagged with a hash of its inputs
and reused while they do not change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.deploy import names
from tests.deploy.dockerfiles import parse

CONTAINERS_CONF = names.DOCKER / "podman" / "containers.conf"
DEBIAN_BASE = "distilserve-base:bookworm"
DEBIAN_PACKAGES = "python3,python3-venv,ca-certificates,passwd"
TEST_REPOSITORY = "distilserve-test"
# What the CPU image is built from (.dockerignore lets only these into the context for it).
IMAGE_INPUTS = ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md", "service")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


class EngineUnavailable(Exception):
    """No container engine can run here; the message says why."""


@dataclass(frozen=True)
class Engine:
    program: str  # "podman" or "docker"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.program == "podman":
            env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
        return env

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([self.program, *args], env=self.env(), capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{self.program} {' '.join(args)}: status {result.returncode}\n"
                                 f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
        return result

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([self.program, *args], env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def has_image(self, name: str) -> bool:
        return self.run("image", "inspect", name, check=False, timeout=60).returncode == 0


def find_engine() -> Engine:
    """podman, else docker, whichever answers `info`; EngineUnavailable says why neither did."""
    reasons = []
    for program in ("podman", "docker"):
        if shutil.which(program) is None:
            reasons.append(f"{program}: not installed")
            continue
        engine = Engine(program)
        try:
            info = engine.run("info", check=False, timeout=60)
        except subprocess.TimeoutExpired:
            reasons.append(f"{program} info: no answer in 60 s")
            continue
        if info.returncode == 0:
            return engine
        last = (info.stderr.strip().splitlines() or ["no output"])[-1]
        reasons.append(f"{program} info: {last}")
    raise EngineUnavailable("no container engine can run here (" + "; ".join(reasons) +
                            "); scripts/install-podman.sh installs podman")


def python_base(engine: Engine) -> str:
    """The image PYTHON_IMAGE is set to: the Dockerfile's, or the local Debian base."""
    registry_image = parse(names.ROOT / "Dockerfile").global_args["PYTHON_IMAGE"]
    for present in (registry_image, DEBIAN_BASE):
        if engine.has_image(present):
            return present
    if engine.run("pull", registry_image, check=False, timeout=600).returncode == 0:
        return registry_image
    make_debian_base(engine)
    return DEBIAN_BASE


def make_debian_base(engine: Engine) -> None:
    """Debian bookworm (minbase) with python3 and venv, imported as DEBIAN_BASE."""
    if shutil.which("mmdebstrap") is None:
        raise EngineUnavailable("the base image cannot be pulled and mmdebstrap is not installed "
                                "(scripts/install-podman.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="distilserve-base-") as tmp:
        tar = Path(tmp) / "base.tar"
        done = subprocess.run(["mmdebstrap", "--variant=minbase", f"--include={DEBIAN_PACKAGES}",
                               "bookworm", str(tar)], capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise AssertionError(f"mmdebstrap failed:\n{done.stderr[-3000:]}")
        engine.run("import", str(tar), DEBIAN_BASE, timeout=300)


def inputs_hash(base_id: str) -> str:
    """sha256 over the base image id and every file the CPU image is built from."""
    digest = hashlib.sha256(base_id.encode())
    for entry in IMAGE_INPUTS:
        path = names.ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(file.relative_to(names.ROOT).as_posix().encode() + b"\0")
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def build_args(engine: Engine, base: str) -> list[str]:
    """`build` arguments for the CPU image with mounted models. podman: docker format (OCI drops
    HEALTHCHECK), host network, and the host's CA bundle for pip where the host has one."""
    args = ["--build-arg", "TARGET=cpu", "--build-arg", f"PYTHON_IMAGE={base}", "--target", "runtime-mounted"]
    if engine.program == "podman":
        args += ["--format", "docker", "--network", "host"]
        if HOST_CA_BUNDLE.is_file():
            certs = HOST_CA_BUNDLE.parent
            args += ["-v", f"{certs}:{certs}:ro", "--build-arg", f"PIP_CERT={HOST_CA_BUNDLE}"]
    return args


def cpu_image(engine: Engine) -> str:
    """The CPU image of the current sources: built once per change of its inputs."""
    base = python_base(engine)
    base_id = engine.run("image", "inspect", "--format", "{{.Id}}", base).stdout.strip()
    tag = f"{TEST_REPOSITORY}:cpu-{inputs_hash(base_id)}"
    if engine.has_image(tag):
        return tag
    engine.run("build", *build_args(engine, base), "-t", tag, str(names.ROOT), timeout=1200)
    _remove_older(engine, tag)
    return tag


def _remove_older(engine: Engine, keep: str) -> None:
    listed = engine.run("images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split()
    stale = [name for name in listed if name.split("/")[-1].startswith(f"{TEST_REPOSITORY}:")
             and name.split("/")[-1] != keep]
    if stale:
        engine.run("rmi", *stale, check=False)
    engine.run("image", "prune", "-f", check=False)
