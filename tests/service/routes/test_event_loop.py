"""Heavy tokenization (long QA contexts, long texts) runs off the event loop: while one request
is being tokenized, other requests are still answered.

No clock is read: the heavy request's tokenizer call blocks until the short request has been
answered (or a generous limit passes). Were the call made on the event loop, the short request could
only be answered after it, so the call would run into the limit and the test would fail."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest

from tests.service.conftest import serving

LIMIT_S = 20.0  # only reached when the short request is stuck behind the tokenizer call


class HeavyCall:
    """Stands in for a native tokenizer call on a 100,000-character context (it releases the GIL)."""

    def __init__(self) -> None:
        self.entered = threading.Event()  # the heavy request is inside its tokenizer call
        self.released = threading.Event()  # the short request has been answered
        self.released_in_time: list[bool] = []

    def wrap(self, real):
        def slow(*args, **kwargs):
            if sum(len(str(a)) for a in args) > 1000:  # only long inputs are slow
                self.entered.set()
                self.released_in_time.append(self.released.wait(LIMIT_S))
            return real(*args, **kwargs)
        return slow


@pytest.fixture
def slow_client(qa_repository):
    heavy = HeavyCall()
    with serving(qa_repository, models=["qa", "sentiment"]) as c:
        for runtime in c.app.state.service.models.runtimes.values():
            for name in ("encode", "encode_pairs"):
                setattr(runtime, name, heavy.wrap(getattr(runtime, name)))
        yield c, heavy


def _short_request_while(slow_client, path: str, body: dict) -> int:
    """Sends `body` and, while it is being tokenized, a short sentiment request; returns the heavy
    request's status once the short one has been answered."""
    client, heavy = slow_client
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.post, path, json=body)
        assert heavy.entered.wait(LIMIT_S), "the heavy request never reached its tokenizer call"
        short = client.post("/v1/sentiment", json={"inputs": "a dull film"})
        heavy.released.set()
        assert short.status_code == 200, short.text
        status = pending.result(timeout=LIMIT_S + 30).status_code
    assert heavy.released_in_time == [True], "the short request waited for the heavy tokenizer call"
    return status


def test_a_long_qa_context_does_not_stall_other_requests(slow_client):
    context = "the river " * 300 + "begin here end"
    assert _short_request_while(slow_client, "/v1/qa", {"question": "where ?", "context": context}) == 200


def test_a_long_text_does_not_stall_other_requests(slow_client):
    body = {"inputs": ["a dull film " * 200], "truncation": True}
    assert _short_request_while(slow_client, "/v1/sentiment", body) == 200
