"""bench/loadgen against a tiny HTTP/1.1 server on 127.0.0.1 that counts what it was sent: closed
loop counts, open loop outcomes (statuses, Retry-After, refused connects), CPU pinning, the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from bench.loadgen import closed_loop, json_bodies, open_loop, read_requests, summary
from bench.loadgen.result import Outcome

ROOT = Path(__file__).resolve().parents[2]
RUN_S = 0.5  # every load run here is this short; the answers come at once


class CountingServer:
    """POST /ok: 200 (Content-Length); /chunked: 200 (chunked); /close: 200 then the connection
    closes; /busy: 429 with Retry-After: 2; /busy-bare: 429 without; /silent: no answer. Counts
    requests by path."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ")[1].decode()
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                self.counts[path] += 1
                if path == "/silent":  # no answer: wait until the client gives up
                    await reader.read()
                    break
                writer.write(self._answer(path))
                await writer.drain()
                if path == "/close" or b"connection: close" in head.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    @staticmethod
    def _answer(path: str) -> bytes:
        if path == "/chunked":
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{}\r\n\r\n0\r\n\r\n"
        extra = {"/busy": "Retry-After: 2\r\n", "/close": "Connection: close\r\n"}.get(path, "")
        status = "429 Too Many Requests" if path.startswith("/busy") else "200 OK"
        body = b'{"ok": true}'
        return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body

    def url(self, path: str = "/ok") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def server():
    running = CountingServer()
    yield running
    running.close()


BODIES = json_bodies({"inputs": f"sentence {i}"} for i in range(5))


def test_closed_loop_answers_every_request_and_counts_what_the_server_counted(server):
    result = closed_loop(server.url(), BODIES, concurrency=4, seconds=RUN_S, processes=2, timeout_s=10)
    assert result.mode == "closed" and result.processes == 2 and result.concurrency == 4
    assert result.handled == server.counts["/ok"] > 0  # every request sent was answered
    assert 0 < result.requests <= result.handled and result.errors == 0
    assert result.statuses == {"200": result.requests}
    assert result.throughput > 0 and result.p50_ms <= result.p90_ms <= result.p99_ms <= result.max_ms
    assert result.generator_cpu_s >= 0 and result.generator_cpu_ms_per_request is not None
    assert result.outcomes == []  # not kept in the closed loop unless asked


@pytest.mark.parametrize("path", ["/chunked", "/close"])
def test_closed_loop_reads_chunked_answers_and_follows_connection_close(server, path):
    result = closed_loop(server.url(path), BODIES, concurrency=2, seconds=RUN_S, processes=1, timeout_s=10)
    assert result.handled == server.counts[path] > 0
    assert result.errors == 0 and result.statuses == {"200": result.requests}


def test_closed_loop_with_a_settling_time_counts_only_the_window(server):
    result = closed_loop(server.url(), BODIES, concurrency=2, seconds=RUN_S, settle_s=RUN_S, processes=1,
                         timeout_s=10, keep_outcomes=True)
    assert result.handled == server.counts["/ok"] > result.requests > 0
    assert len(result.outcomes) == result.requests
    ends = [o.sent_s + o.latency_s for o in result.outcomes]  # since the start: inside the window
    assert RUN_S - 1e-6 <= min(ends) and max(ends) <= 2 * RUN_S + 1e-6


def test_open_loop_keeps_every_outcome_with_status_and_retry_after(server):
    requests = [("/ok", BODIES[0]), ("/busy", BODIES[1]), ("/busy-bare", BODIES[2]), ("/chunked", BODIES[3])]
    result = open_loop(server.url(), requests, rate=80, seconds=RUN_S, processes=2, timeout_s=10)
    assert result.mode == "open" and result.rate == 80
    assert result.requests == len(result.outcomes) == result.handled == sum(server.counts.values()) == 40
    by_kind = Counter(o.kind for o in result.outcomes)
    assert by_kind == Counter({"200": 20, "429": 20}) and result.statuses == {"200": 20, "429": 20}
    assert server.counts == Counter({"/ok": 10, "/busy": 10, "/busy-bare": 10, "/chunked": 10})
    assert {o.retry_after for o in result.outcomes if o.status == 429} == {"2", None}
    assert result.retry_after_missing == 10 and result.errors == 20
    assert [o.sent_s for o in result.outcomes] == sorted(o.sent_s for o in result.outcomes)
    assert all(o.latency_s >= 0 and o.error is None for o in result.outcomes)
    short, of_outcomes = result.summary(), summary(result.outcomes)
    assert short["by_status"] == of_outcomes["by_status"] == {"200": 20, "429": 20}
    assert short["429_without_retry_after"] == of_outcomes["429_without_retry_after"] == 10


def test_open_loop_without_keepalive_opens_a_connection_per_request(server):
    result = open_loop(server.url(), BODIES, rate=40, seconds=RUN_S, processes=1, keepalive=False, timeout_s=10)
    assert result.statuses == {"200": 20} and server.counts["/ok"] == 20


def test_an_answer_that_does_not_come_is_a_timeout(server):
    result = open_loop(server.url("/silent"), BODIES, rate=10, seconds=RUN_S, processes=1, timeout_s=0.4)
    assert result.statuses == {"Timeout": 5} and server.counts["/silent"] == 5
    assert all(o.status is None and o.error == "Timeout" for o in result.outcomes)


def test_a_refused_connect_is_an_outcome_not_an_exception():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = open_loop(f"http://127.0.0.1:{port}/ok", BODIES, rate=20, seconds=RUN_S, processes=1, timeout_s=5)
    assert result.statuses == {"ConnectError": 10} and result.errors == 10 and result.throughput == 0
    assert all(o.status is None and o.error == "ConnectError" for o in result.outcomes)


def test_pinning_to_cpu_0_pins_every_process(server):
    if 0 not in os.sched_getaffinity(0):
        pytest.skip("CPU 0 is not ours here")
    result = closed_loop(server.url(), BODIES, concurrency=2, seconds=RUN_S, processes=2, cpus=(0,), timeout_s=10)
    assert result.pinned and result.cpus == [0] and result.processes == 2
    assert result.handled == server.counts["/ok"] > 0


def test_cpus_outside_the_allowed_set_are_refused(server):
    outside = max(os.sched_getaffinity(0)) + 1
    with pytest.raises(ValueError, match="not within"):
        closed_loop(server.url(), BODIES, concurrency=1, seconds=RUN_S, cpus=(outside,))


def test_summary_of_outcomes():
    outcomes = [Outcome(0.0, 0.010, 200), Outcome(0.1, 0.030, 200), Outcome(0.2, 0.001, 429, retry_after="1"),
                Outcome(0.3, 0.002, 429), Outcome(0.4, 0.5, None, "Timeout")]
    s = summary(outcomes)
    assert s["requests"] == 5 and s["by_status"] == {"200": 2, "429": 2, "Timeout": 1}
    assert s["429_without_retry_after"] == 1 and s["max_ms"] == 30.0


def test_the_command_line_prints_one_result(server, tmp_path):
    bodies = tmp_path / "bodies.jsonl"
    bodies.write_text("".join(json.dumps(["/busy", {"inputs": "x"}]) + "\n" for _ in range(3)))
    assert read_requests(bodies, with_paths=True)[0] == ("/busy", b'{"inputs": "x"}')
    cpu = min(os.sched_getaffinity(0))
    out = subprocess.run([sys.executable, "-m", "bench.loadgen", server.url(), str(bodies), "--paths", "--rate", "20",
                          "--seconds", str(RUN_S), "--cpus", str(cpu)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["statuses"] == {"429": 10} and result["retry_after_missing"] == 0 and result["cpus"] == [cpu]
    help_text = subprocess.run([sys.executable, "-m", "bench.loadgen", "--help"], cwd=ROOT, capture_output=True,
                               text=True, timeout=60).stdout
    assert "--concurrency" in help_text and "--rate" in help_text and "--cpus" in help_text
