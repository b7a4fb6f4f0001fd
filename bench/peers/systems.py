"""How each system is started and spoken to: this service, infinity-emb (optimum or torch engine)
and the LitServe app, and the launcher that runs one of them (bench.harness.server)."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

from bench.harness.server import Server, launch
from bench.peers.environments import ensure_env, peer_envs
from bench.peers.folders import ModelFolder, infinity_folder, torch_student_folder

LITSERVE_APP = Path(__file__).resolve().parent / "apps" / "litserve_app.py"
BATCH_SIZE = 32  # infinity's --batch-size, LitServe's max_batch_size
ALL_SYSTEMS = ("service", "infinity", "infinity-torch", "litserve")


@dataclass
class System:
    """How to start one server and talk to it. `command` holds "{port}" where the port goes."""

    name: str
    command: list[str]
    ready_path: str
    endpoint: str
    body: Callable[[str], dict[str, Any]]
    top_label: Callable[[Any], str]
    description: str
    env: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str | None] = field(default_factory=dict)
    cwd: Path | None = None  # where the server starts (default: the run's log folder)


def _service_label(answer: Any) -> str:
    return answer[0]["label"]


def _infinity_label(answer: Any) -> str:
    return max(answer["data"][0], key=lambda item: item["score"])["label"]


def _litserve_label(answer: Any) -> str:
    return answer["label"]


def service_system(model: ModelFolder, preference: str, flags: list[str] | None = None) -> System:
    flags = flags or []
    command = [sys.executable, "-m", "service", "--model-repository", str(model.path.parent),
               "--models", model.path.name, "--sentiment-model", model.path.name,
               "--variant", preference, "--log-level", "warning", *flags, "--port", "{port}"]
    settings = f"flags `{' '.join(flags)}`" if flags else "default settings"
    return System("service", command, "/readyz", "/v1/sentiment",
                  lambda text: {"inputs": text, "truncation": True}, _service_label,
                  f"`python -m service` (this repository), variant `{model.variant}` ({model.file}), "
                  f"{settings}", versions={"distilserve": metadata.version("distilserve")})


def infinity_env(cache: Path) -> dict[str, str]:
    """Offline, no telemetry, Hugging Face caches inside the peers cache."""
    return {"HF_HOME": str(cache / "hf-home"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "DO_NOT_TRACK": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0"}


def infinity_command(python: Path, served_name: str, engine: str, *extra: str) -> list[str]:
    """infinity-emb's v2 server on the model folder it is started in (see `infinity_system`)."""
    return [str(python), "-m", "infinity_emb.cli", "v2", "--model-id", ".",
            "--served-model-name", served_name, "--engine", engine, "--device", "cpu",
            "--batch-size", str(BATCH_SIZE), "--host", "127.0.0.1", "--port", "{port}",
            "--log-level", "warning", "--no-compile", "--onnx-disable-optimize", "--no-model-warmup", *extra]


def infinity_system(name: str, python: Path, versions: dict, cache: Path, folder: Path, engine: str,
                    what: str) -> System:
    """infinity-emb's v2 server. It starts inside the folder with `--model-id .`: for a local folder
    infinity 0.0.78 hands optimum the ONNX file's path as found under the model id, and optimum 2.x
    compares that with bare file names, so only a model id of "." gives a path that matches.
    `--no-model-warmup`: infinity's warm-up classifies 512 words, 514 tokens with [CLS] and [SEP],
    which its pipeline does not truncate and a 512-position model refuses, so the server would not
    start; every system gets the same warm-up load instead."""
    return System(name, infinity_command(python, "sentiment", engine), "/health", "/classify",
                  lambda text: {"input": [text], "model": "sentiment"}, _infinity_label,
                  f"infinity-emb `v2 --engine {engine} --batch-size {BATCH_SIZE} --no-model-warmup "
                  f"--onnx-disable-optimize --no-compile` on {what}",
                  env=infinity_env(cache), versions=versions, cwd=folder)


def litserve_system(python: Path, versions: dict, model: ModelFolder) -> System:
    command = [str(python), str(LITSERVE_APP), "--model-folder", str(model.path),
               "--onnx-file", model.file, "--port", "{port}"]
    return System("litserve", command, "/health", "/predict",
                  lambda text: {"inputs": text}, _litserve_label,
                  f"LitServe app `bench/peer_apps/litserve_app.py` on {model.file} (ONNX Runtime with "
                  "its default session options, max_batch_size 32, batch_timeout 5 ms, 1 worker)",
                  versions=versions)


def build_system(name: str, args: argparse.Namespace, model: ModelFolder) -> System:
    """Install what one system needs (once) and describe how to run it."""
    envs = peer_envs()
    if name == "service":
        return service_system(model, args.variant, shlex.split(args.service_args))
    if name == "litserve":
        python, versions = ensure_env(args.cache, envs["litserve"])
        return litserve_system(python, versions, model)
    python, versions = ensure_env(args.cache, envs["infinity"])
    if name == "infinity":
        folder = infinity_folder(args.cache, model)
        return infinity_system(name, python, versions, args.cache, folder, "optimum",
                               f"{model.file} ({model.precision}, copied to {folder})")
    folder = torch_student_folder(args.cache, args.hf_student, model)
    return infinity_system(name, python, versions, args.cache, folder, "torch",
                           f"the fp32 PyTorch student {args.hf_student}")


def build_systems(names: list[str], args: argparse.Namespace, model: ModelFolder
                  ) -> tuple[dict[str, System], dict[str, str]]:
    """The systems that could be set up, and why each other one could not."""
    systems: dict[str, System] = {}
    failed: dict[str, str] = {}
    for name in names:
        try:
            systems[name] = build_system(name, args, model)
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
            failed[name] = f"setup failed: {exc}"
            print(f"  {name} left out: {exc}", flush=True)
    return systems, failed


@contextlib.contextmanager
def running(system: System, log_path: Path, ready_timeout: float) -> Iterator[Server]:
    """Start the system on a free port; yield it once its ready path answers (stopped with every
    process it started)."""
    with launch(system.command, log_path, ready_path=system.ready_path, ready_timeout=ready_timeout,
                cwd=system.cwd or log_path.parent, env=system.env, stop_tree=True, log_mode="a") as server:
        yield server
