"""The Dockerfile and .dockerignore against the project: extras, console script, settings, routes."""

from __future__ import annotations

import re
import sys

import pytest

from tests.deploy import names
from tests.deploy.dockerfiles import dockerignore_patterns, ignored, parse

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DOCKERFILE = parse(names.ROOT / "Dockerfile")
PYPROJECT = tomllib.loads((names.ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
VARIANTS = [{"TARGET": t, "target": f"runtime-{m}"} for t in ("gpu", "cpu") for m in ("mounted", "baked")]


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def _runtime_stage():
    return DOCKERFILE.stage("runtime")


def test_defaults_are_gpu_with_a_mounted_model_repository():
    assert DOCKERFILE.global_args["TARGET"] == "gpu"
    assert DOCKERFILE.stages[-1].name == "runtime-mounted"  # what a build without --target makes


def test_final_stages_are_chosen_by_target_not_by_a_build_argument():
    """buildah (podman build) does not resolve a stage named through an argument in the last
    FROM ("short-name did not resolve"): the variants are --target stages built FROM `runtime`."""
    finals = [s for s in DOCKERFILE.stages if s.name and s.name.startswith("runtime-")]
    assert {s.name for s in finals} == {"runtime-mounted", "runtime-baked"}
    assert all(s.base == "runtime" for s in finals)
    assert "$" not in DOCKERFILE.stages[-1].base


def test_base_images_are_pinned_to_existing_tag_shapes():
    python_image = DOCKERFILE.global_args["PYTHON_IMAGE"]
    cuda_image = DOCKERFILE.global_args["CUDA_IMAGE"]
    # fully qualified: podman resolves short names only through aliases a distribution may lack
    assert re.fullmatch(r"docker\.io/library/python:3\.\d+\.\d+-slim-bookworm", python_image), python_image
    assert re.fullmatch(r"docker\.io/nvidia/cuda:\d+\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+", cuda_image), cuda_image
    stage_names = {s.name for s in DOCKERFILE.stages}
    for stage in DOCKERFILE.stages:
        base = DOCKERFILE.resolve(stage.base)
        if base in stage_names or "${" in base:  # a stage, or one chosen by TARGET
            continue
        assert re.search(r":\d+\.\d+\.\d+-", base), f"{base}: pin a full version tag"


def test_cuda_major_matches_the_pinned_onnxruntime_gpu():
    """onnxruntime-gpu up to 1.26 is built for CUDA 12, from 1.27 on for CUDA 13 (both cuDNN 9)."""
    ort = DOCKERFILE.stage("venv").args()["ORT_GPU_VERSION"]
    major, minor = (int(x) for x in ort.split(".")[:2])
    cuda_major = int(re.search(r"nvidia/cuda:(\d+)\.", DOCKERFILE.global_args["CUDA_IMAGE"]).group(1))
    assert cuda_major == (12 if (major, minor) <= (1, 26) else 13), (ort, cuda_major)
    assert "cudnn" in DOCKERFILE.global_args["CUDA_IMAGE"]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda a: f"{a['TARGET']}-{a['target']}")
def test_every_variant_resolves_to_the_runtime(variant):
    chain = DOCKERFILE.chain({"TARGET": variant["TARGET"]}, target=variant["target"])
    names_in_chain = [s.name for s in chain]
    assert "runtime" in names_in_chain, names_in_chain
    assert names_in_chain[0] == variant["target"]
    assert f"base-{variant['TARGET']}" in names_in_chain
    expected_base = DOCKERFILE.global_args["CUDA_IMAGE" if variant["TARGET"] == "gpu" else "PYTHON_IMAGE"]
    assert DOCKERFILE.resolve(chain[-1].base) == expected_base


def test_service_is_installed_with_the_serving_extras_and_no_torch():
    run = " ".join(i.args for i in DOCKERFILE.stage("venv").all("RUN"))
    assert '".[serve-gpu]"' in run and '".[serve]"' in run
    for extra in ("serve", "serve-gpu"):
        assert "torch" not in _requirement_names(EXTRAS[extra]), extra
    assert "onnxruntime-gpu" in _requirement_names(EXTRAS["serve-gpu"])
    assert "onnxruntime-gpu==${ORT_GPU_VERSION}" in run
    assert "find_spec('torch') is not None" in run, "the build no longer checks that torch stayed out"


def test_torch_reaches_the_image_only_as_baked_model_files():
    """The only stage installing the distill extra is models-build, and from it the runtime
    images copy the model folder only."""
    for stage in DOCKERFILE.stages:
        run = " ".join(i.args for i in stage.all("RUN"))
        if "[distill]" in run or "torch==" in run:
            assert stage.name == "models-build", stage.name
    assert "torch" in _requirement_names(EXTRAS["distill"])
    for stage in DOCKERFILE.stages:
        for copy in stage.all("COPY"):
            if "--from=models-build" in copy.args:
                assert stage.name == "runtime-baked"
                source = copy.args.split()[-2]
                assert source.startswith("/models/") and ".runs" not in source


def test_baking_runs_the_default_model_build_into_the_model_repository():
    stage = DOCKERFILE.stage("models-build")
    runs = [i.args for i in stage.all("RUN")]
    assert any(r.startswith("distill build-default --output /models") for r in runs), runs
    assert "distill" in PYPROJECT["project"]["scripts"]
    repository = _runtime_stage().env()[names.env_name("model_repository")]
    copy = next(c for c in DOCKERFILE.stage("runtime-baked").all("COPY") if "--from=models-build" in c.args)
    assert copy.args.split()[-1].startswith(repository + "/")


def test_runtime_environment_uses_real_settings():
    env = _runtime_stage().env()
    settings_env = {k: v for k, v in env.items() if k.startswith(names.env_prefix())}
    unknown = set(settings_env) - set(names.env_names())
    assert not unknown, f"not settings of the service: {unknown}"
    assert settings_env[names.env_name("host")] == "0.0.0.0"
    assert settings_env[names.env_name("model_repository")] == "/models"
    settings = names.settings_from_env(settings_env)
    assert str(settings.model_repository) == "/models" and settings.host == "0.0.0.0"
    exposed = [int(p.split("/")[0]) for i in _runtime_stage().all("EXPOSE") for p in i.args.split()]
    assert exposed == [settings.port]


def test_runs_as_a_non_root_user():
    users = _runtime_stage().all("USER")
    assert users, "the runtime stage sets no USER"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0")
    assert any("useradd" in r.args and f"--uid {user}" in r.args for r in _runtime_stage().all("RUN"))


def test_entrypoint_is_the_serve_console_script():
    entrypoint = _runtime_stage().all("ENTRYPOINT")[-1].exec_form()
    assert entrypoint and entrypoint[0] in PYPROJECT["project"]["scripts"]
    assert PYPROJECT["project"]["scripts"][entrypoint[0]] == "service.main:main"


def test_healthcheck_probes_the_liveness_route_with_python():
    check = _runtime_stage().all("HEALTHCHECK")[-1].args
    command = check[check.index("CMD") + 3:].strip()
    argv = __import__("json").loads(command)
    assert argv[:2] == ["python", "-c"], "no curl in the image: the check must use python"
    assert f"'http://127.0.0.1:%s{names.route_of('healthz')}'" in argv[2]
    assert names.env_name("port") in argv[2]


def test_every_copied_path_exists_and_is_in_the_build_context():
    patterns = dockerignore_patterns(names.ROOT / ".dockerignore")
    for stage in DOCKERFILE.stages:
        for copy in stage.all("COPY"):
            if "--from=" in copy.args:
                continue
            for source in copy.args.split()[:-1]:
                path = names.ROOT / source
                assert path.exists(), source
                sample = next(iter(sorted(path.rglob("*.py"))), path) if path.is_dir() else path
                rel = sample.relative_to(names.ROOT).as_posix()
                assert not ignored(rel, patterns), f"{rel} is needed by COPY {source} but .dockerignore drops it"


@pytest.mark.parametrize("path", [".venv/bin/python", "models/sentiment/model.onnx", ".git/HEAD",
                                  "tests/service/test_api.py", "service/__pycache__/api.cpython-312.pyc",
                                  "runs/x/student/model.safetensors"])
def test_dockerignore_keeps_local_state_out_of_the_context(path):
    assert ignored(path, dockerignore_patterns(names.ROOT / ".dockerignore"))
