"""Heavy tokenization (long QA contexts, long texts) runs off the event loop: while one request
is being tokenized, other requests are still answered at once."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from tests.service.conftest import serving

SLOW_S = 1.5  # a tokenizer call this long stands in for a 100,000-character context


@pytest.fixture
def slow_client(qa_repository):
    with serving(qa_repository, models=["qa", "sentiment"]) as c:
        for runtime in c.app.state.service.models.runtimes.values():
            for name in ("encode", "encode_pairs"):
                real = getattr(runtime, name)

                def slow(*args, _real=real, **kwargs):
                    if sum(len(str(a)) for a in args) > 1000:  # only long inputs are slow
                        time.sleep(SLOW_S)  # like a native tokenizer call, it releases the GIL
                    return _real(*args, **kwargs)

                setattr(runtime, name, slow)
        yield c


def _latency_while(client, path: str, body: dict) -> tuple[float, int]:
    """Seconds a short sentiment request takes while `body` is being tokenized."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        heavy = pool.submit(client.post, path, json=body)
        time.sleep(0.3)  # the heavy request is now inside its tokenizer call
        started = time.monotonic()
        short = client.post("/v1/sentiment", json={"inputs": "a dull film"})
        seconds = time.monotonic() - started
        assert short.status_code == 200, short.text
        return seconds, heavy.result(timeout=30).status_code


def test_a_long_qa_context_does_not_stall_other_requests(slow_client):
    context = "the river " * 300 + "begin here end"
    seconds, status = _latency_while(slow_client, "/v1/qa", {"question": "where ?", "context": context})
    assert status == 200
    assert seconds < SLOW_S / 3, f"a short request waited {seconds:.2f} s behind the tokenizer"


def test_a_long_text_does_not_stall_other_requests(slow_client):
    body = {"inputs": ["a dull film " * 200], "truncation": True}
    seconds, status = _latency_while(slow_client, "/v1/sentiment", body)
    assert status == 200
    assert seconds < SLOW_S / 3, f"a short request waited {seconds:.2f} s behind the tokenizer"
