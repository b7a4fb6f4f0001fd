"""The peers' virtual environments: one per peer under a cache folder, filled once with pinned
packages (torch, where a peer needs it, the local CPU wheel) and stamped with what went in."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

DEFAULT_CACHE = Path.home() / ".cache" / "distilserve-peers"
TORCH_PIN = "2.13.0"  # the local CPU wheel; any other version would pull a CUDA build
INFINITY_PIN = "0.0.78"
LITSERVE_PIN = "0.2.19"


@dataclass(frozen=True)
class PeerEnv:
    """A virtual environment of the cache: what goes in it, torch (the CPU wheel) first or not."""

    name: str
    packages: tuple[str, ...]
    torch_first: bool
    report: tuple[str, ...]  # distributions whose installed versions are reported

    def stamp(self) -> dict[str, Any]:
        return {"packages": list(self.packages), "torch": TORCH_PIN if self.torch_first else None,
                "python": platform.python_version()}


def peer_envs() -> dict[str, PeerEnv]:
    """The pins. LitServe gets the project's own onnxruntime and tokenizers versions."""
    ort_version, tok_version = metadata.version("onnxruntime"), metadata.version("tokenizers")
    return {
        "infinity": PeerEnv("infinity", (f"infinity-emb[server,torch,optimum]=={INFINITY_PIN}",), True,
                            ("infinity-emb", "optimum", "optimum-onnx", "onnxruntime", "transformers",
                             "tokenizers", "torch")),
        "litserve": PeerEnv("litserve", (f"litserve=={LITSERVE_PIN}", f"onnxruntime=={ort_version}",
                                         f"tokenizers=={tok_version}"), False,
                            ("litserve", "onnxruntime", "tokenizers", "numpy")),
    }


def pip_install(python: Path, args: list[str], log: Path) -> None:
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    print(f"  $ {' '.join(command)}", flush=True)
    with open(log, "a") as handle:
        done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(args)} failed ({done.returncode}); see {log}")


def installed_versions(python: Path, names: tuple[str, ...]) -> dict[str, str | None]:
    code = ("import json, sys\nfrom importlib import metadata\nout = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = metadata.version(n)\n"
            "    except metadata.PackageNotFoundError: out[n] = None\n"
            "print(json.dumps(out))")
    done = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def check_torch(versions: dict[str, str | None], env: Path) -> None:
    """Refuse an environment whose torch is anything but the local CPU build of the pin."""
    torch = versions.get("torch")
    if torch is not None and not (torch.split("+")[0] == TORCH_PIN and "+cpu" in torch):
        raise RuntimeError(f"{env}: torch {torch} installed, expected the CPU wheel {TORCH_PIN}+cpu; "
                           f"remove {env} and check pip's find-links")


def ensure_env(cache: Path, spec: PeerEnv) -> tuple[Path, dict[str, str | None]]:
    """Create and fill the environment unless its stamp says it holds these pins; returns its
    python and the installed versions of the distributions that matter."""
    env = cache / spec.name
    python = env / "bin" / "python"
    stamp = env / "distilserve-stamp.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()).get("pins") == spec.stamp():
        return python, json.loads(stamp.read_text())["versions"]
    print(f"installing {spec.name} into {env} (once)", flush=True)
    if not python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(env)], check=True)
    log = env / "install.log"
    constraints = env / "constraints.txt"
    constraints.write_text(f"torch=={TORCH_PIN}\n")  # nothing may move torch off the CPU wheel
    if spec.torch_first:
        pip_install(python, [f"torch=={TORCH_PIN}"], log)
    pip_install(python, ["-c", str(constraints), *spec.packages], log)
    versions = installed_versions(python, spec.report)
    check_torch(versions, env)
    stamp.write_text(json.dumps({"pins": spec.stamp(), "versions": versions}, indent=2) + "\n")
    return python, versions
