"""What a load run gives back: each process's tally, merged into one `LoadResult` for both modes,
and every request's `Outcome` where the run keeps them (the open loop does)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Outcome:
    sent_s: float  # when the request was due, in seconds since the start of the run
    latency_s: float  # from then to the end of its answer (or of the error)
    status: int | None  # None: no HTTP answer (see error)
    error: str | None = None  # ConnectError, ReadError, ProtocolError or Timeout
    retry_after: str | None = None
    index: int = -1  # the request's place in the run's list of requests

    @property
    def kind(self) -> str:
        """The status as text ("200", "429") or the error's name."""
        return str(self.status) if self.status is not None else str(self.error)


def ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


@dataclass
class Tally:
    """One process's counts. `latencies` are those of the 2xx answers counted (in the window);
    `handled` counts every request the process finished, counted or not (for CPU per request)."""
    latencies: list[float] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)
    no_retry_after: int = 0  # 429 answers without a Retry-After header
    handled: int = 0
    in_flight_peak: int = 0
    cpu_s: float = 0.0
    cpus: list[int] = field(default_factory=list)  # the CPUs the process could run on
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: int | None, error: str | None, latency_s: float, retry_after: str | None) -> None:
        self.kinds[str(status) if status is not None else error] += 1
        if ok(status):
            self.latencies.append(latency_s)
        elif status == 429 and not retry_after:
            self.no_retry_after += 1

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.kinds.update(other.kinds)
        self.no_retry_after += other.no_retry_after
        self.handled += other.handled
        self.in_flight_peak += other.in_flight_peak
        self.cpu_s += other.cpu_s
        self.cpus = sorted(set(self.cpus) | set(other.cpus))
        self.outcomes += other.outcomes


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of `values` (None when empty)."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@dataclass
class LoadResult:
    """One run of either mode. Latencies (ms) are those of the 2xx answers; `errors` counts the
    other answers and the transport errors; `throughput` is 2xx answers per second of `seconds`
    (closed loop: answers finished in the measured window; open loop: answers to the requests
    sent during the run). `statuses` counts answers by status and errors by name."""
    mode: str  # "closed" or "open"
    concurrency: int  # closed loop: connections; open loop: most requests in flight (summed over processes)
    rate: float | None  # open loop: requests sent per second
    requests: int  # counted requests: answered or failed
    handled: int  # every request the generator finished, counted or not (closed loop: also outside the window)
    seconds: float
    throughput: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int
    statuses: dict[str, int]
    retry_after_missing: int  # 429 answers without Retry-After
    processes: int
    pinned: bool  # the processes were pinned to `cpus`
    cpus: list[int]  # the CPUs the generator's processes could run on
    generator_cpu_s: float  # user + system time of the generator's processes during the run
    generator_cpu_ms_per_request: float | None  # per request the processes finished (window or not)
    started_at: float = field(default=0.0, repr=False)  # time.monotonic() at the start (this host only)
    outcomes: list[Outcome] = field(default_factory=list, repr=False)  # every request (open loop)

    def as_dict(self) -> dict:
        """The numbers, without the outcomes and the host's clock."""
        skip = {"outcomes", "started_at"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}

    def summary(self) -> dict:
        """The short form of bench/serving/robustness.py's JSON (see `summary`)."""
        return {"requests": self.requests, "by_status": dict(sorted(self.statuses.items())),
                "p50_ms": _or_none(self.p50_ms), "p99_ms": _or_none(self.p99_ms), "max_ms": _or_none(self.max_ms),
                "429_without_retry_after": self.retry_after_missing}


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)


def _ms(values: list[float], q: float) -> float:
    value = percentile(values, q)
    return float("nan") if value is None else round(value, 3)


def build_result(mode: str, tally: Tally, seconds: float, processes: int, pinned: bool, concurrency: int,
                 rate: float | None, started_at: float) -> LoadResult:
    ms = [x * 1000 for x in tally.latencies]
    requests = sum(tally.kinds.values())
    errors = requests - len(ms)
    return LoadResult(
        mode=mode, concurrency=concurrency if mode == "closed" else tally.in_flight_peak, rate=rate,
        requests=requests, handled=tally.handled, seconds=seconds,
        throughput=round(len(ms) / seconds, 2) if seconds > 0 else 0.0,
        p50_ms=_ms(ms, 50), p90_ms=_ms(ms, 90), p95_ms=_ms(ms, 95), p99_ms=_ms(ms, 99),
        mean_ms=round(sum(ms) / len(ms), 3) if ms else float("nan"), max_ms=round(max(ms), 3) if ms else float("nan"),
        errors=errors, statuses=dict(sorted(tally.kinds.items())), retry_after_missing=tally.no_retry_after,
        processes=processes, pinned=pinned, cpus=tally.cpus, generator_cpu_s=round(tally.cpu_s, 3),
        generator_cpu_ms_per_request=round(1000 * tally.cpu_s / tally.handled, 4) if tally.handled else None,
        started_at=started_at, outcomes=sorted(tally.outcomes, key=lambda o: o.sent_s),
    )


def summary(outcomes: list[Outcome]) -> dict:
    """Counts by status (or error name), latency percentiles of the 2xx answers (ms) and the 429
    answers without Retry-After, of any list of outcomes (a part of a run, say)."""
    kinds = Counter(o.kind for o in outcomes)
    answered = [o.latency_s * 1000 for o in outcomes if ok(o.status)]

    def at(q: float) -> float | None:
        value = percentile(answered, q)
        return None if value is None else round(value, 2)

    return {"requests": len(outcomes), "by_status": dict(sorted(kinds.items())), "p50_ms": at(50), "p99_ms": at(99),
            "max_ms": round(max(answered), 2) if answered else None,
            "429_without_retry_after": sum(1 for o in outcomes if o.status == 429 and not o.retry_after)}

