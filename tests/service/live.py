"""A real HTTP server for tests that need one (third-party clients, the fuzzer): uvicorn serving
an app of tiny models on a free port, in a thread of the test process."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import uvicorn

from service.main import create_app
from tests.service.conftest import make_settings


@contextlib.contextmanager
def live_server(repository: Path, **overrides) -> Iterator[str]:
    """Serve `repository` until the block ends; yields the base URL once /readyz answers 200."""
    app = create_app(make_settings(repository, **overrides))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not (server.started and server.servers):
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        while httpx.get(f"{url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.02)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
