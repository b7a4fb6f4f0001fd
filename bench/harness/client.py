"""The small HTTP JSON client the benchmarks share (the load itself goes through bench/loadgen)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def responds(url: str, timeout: float = 2.0) -> bool:
    """Whether a GET of `url` answers 200 (a readiness probe: any failure is a no)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def get_text(url: str, timeout: float = 10.0) -> str:
    """The body of a GET of `url` as text (a Prometheus page, for one)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def get_json(url: str, timeout: float = 10.0) -> Any:
    """The JSON answer to a GET of `url`."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def post_json(url: str, body: Any, timeout: float = 30.0) -> Any:
    """POST `body` as JSON to `url`; its JSON answer. An error status raises
    urllib.error.HTTPError, whose body (`error.read()`) holds the server's message."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)
