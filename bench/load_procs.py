"""Start an HTTP server as a child process on 127.0.0.1, wait until it is ready, stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Collection, Iterator

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def child_server(args: list[str], log_path: Path, ready_timeout: float = 300.0) -> Iterator[str]:
    """Run `python <args> --port P`; yield its base URL once /readyz answers 200."""
    with child_server_process(args, log_path, ready_timeout) as (url, _):
        yield url


@contextlib.contextmanager
def child_server_process(args: list[str], log_path: Path, ready_timeout: float = 300.0, cwd: Path = ROOT,
                         cpus: Collection[int] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """child_server, also yielding the process (for its memory, or to signal it); `cwd` is where
    it runs (another checkout of the project, to compare revisions); `cpus` pins it and its
    children to those CPUs (os.sched_setaffinity before it starts)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(log_path, "w")
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    process = subprocess.Popen([sys.executable, *args, "--port", str(port)], cwd=cwd, preexec_fn=pin,
                               stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        deadline = time.monotonic() + ready_timeout
        while not _ready(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server {args} did not become ready; see {log_path}")
            time.sleep(0.2)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()
