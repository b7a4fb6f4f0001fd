"""The one server launcher of the benchmarks: start a server as a child process on 127.0.0.1 and
a free port, wait until its readiness path answers 200, stop it (and, if asked, its children)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterator, Mapping

from bench.harness.client import responds
from bench.harness.paths import ROOT

PORT = "{port}"  # where a command takes the port


@dataclass(frozen=True)
class Server:
    """A started server: its base URL and its process."""

    url: str
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server, SIGKILL it after 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _stop_tree(process: subprocess.Popen) -> None:
    """SIGTERM the server and every process it started (LitServe's workers), then SIGKILL stragglers."""
    import psutil

    try:
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=20)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=10)
    if process.poll() is None:
        process.wait(timeout=10)


@contextlib.contextmanager
def launch(command: list[str], log_path: Path, *, ready_path: str = "/readyz", ready_timeout: float = 300.0,
           cwd: Path = ROOT, env: Mapping[str, str] | None = None, cpus: Collection[int] | None = None,
           stop_tree: bool = False, log_mode: str = "w") -> Iterator[Server]:
    """Run `command` ("{port}" in it replaced by a free port) in `cwd` with `env` added to this
    process's environment, its output in `log_path`; yield it once `ready_path` answers 200.
    `cpus` pins it and its children to those CPUs (os.sched_setaffinity before it starts);
    `stop_tree` signals the processes it started too when it stops."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    with open(log_path, log_mode) as log:
        process = subprocess.Popen([part.replace(PORT, str(port)) for part in command], cwd=cwd, preexec_fn=pin,
                                   stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            deadline = time.monotonic() + ready_timeout
            while not responds(url + ready_path):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server {command} did not become ready; see {log_path}")
                time.sleep(0.2)
            yield Server(url, process)
        finally:
            (_stop_tree if stop_tree else _stop)(process)


def python_server(args: list[str], log_path: Path, **options) -> contextlib.AbstractContextManager[Server]:
    """`launch` of `python <args> --port P` with this interpreter (`args`: ["-m", "service", ...])."""
    return launch([sys.executable, *args, "--port", PORT], log_path, **options)
