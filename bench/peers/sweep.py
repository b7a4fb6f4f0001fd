"""The comparison: rounds over the systems, one server up at a time, each probed for its labels,
warmed up and driven at every concurrency level, its process tree's CPU time measured across each
run; then medians over rounds and the label agreement with this service."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from bench.harness.client import post_json
from bench.loadgen import LoadResult, closed_loop, json_bodies, sentence_bodies
from bench.peers.systems import System, running


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """user + system CPU seconds of a process and each of its descendants, by pid."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    seconds: dict[int, float] = {}
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            seconds[proc.pid] = times.user + times.system
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots (a process born in between counts whole)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def probe_labels(url: str, system: System, texts: list[str], give_up_after: int = 3) -> list[str | None]:
    """Top label of each text, one request at a time (None where the request failed); after
    `give_up_after` failures in a row the rest count as failed too (a wedged server)."""
    labels: list[str | None] = []
    failures = 0
    for text in texts:
        try:
            labels.append(system.top_label(post_json(url + system.endpoint, system.body(text))))
            failures = 0
        except (urllib.error.URLError, OSError, KeyError, IndexError, ValueError):
            labels.append(None)
            failures += 1
            if failures >= give_up_after:
                print(f"  {system.name}: {failures} failed answers in a row; probing stopped", flush=True)
                break
    return labels + [None] * (len(texts) - len(labels))


def measure(url: str, pid: int, system: System, bodies: list[bytes], level: int, seconds: float) -> dict[str, Any]:
    """One closed-loop run at `level` connections, with the server tree's CPU time across it."""
    before = tree_cpu_seconds(pid)
    result: LoadResult = closed_loop(url + system.endpoint, bodies, level, seconds)
    spent = cpu_used(before, tree_cpu_seconds(pid))
    answered = result.requests - result.errors
    return {**result.as_dict(), "cpu_seconds": round(spent, 3),
            "cpu_ms_per_request": round(1000 * spent / answered, 3) if answered else None}


def system_bodies(system: System, texts: list[str]) -> list[bytes]:
    """The request bodies: the service's own form via sentence_bodies, peers' from System.body."""
    if system.name == "service":
        return sentence_bodies(texts)
    return json_bodies(system.body(t) for t in texts)


# ---------------------------------------------------------------- the sweep


@dataclass
class Sweep:
    levels: list[int]
    seconds: float
    warmup_s: float
    rounds: int
    ready_timeout: float
    agreement_texts: list[str]


def run_system_round(system: System, sweep: Sweep, bodies: list[bytes], work: Path, raw: dict[str, Any]) -> None:
    """Start the system, probe its labels (the first time), warm it up, run every level, stop it."""
    entry = raw.setdefault(system.name, {"runs": {str(level): [] for level in sweep.levels}})
    with running(system, work / f"{system.name}.log", sweep.ready_timeout) as server:
        url, pid = server.url, server.process.pid
        if "labels" not in entry:
            entry["labels"] = probe_labels(url, system, sweep.agreement_texts)
        closed_loop(url + system.endpoint, bodies, max(sweep.levels), sweep.warmup_s)
        for level in sweep.levels:
            result = measure(url, pid, system, bodies, level, sweep.seconds)
            entry["runs"][str(level)].append(result)
            print(f"  {system.name:<15} c={level:<4} {result['throughput']:8.1f} req/s  "
                  f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
                  f"cpu {result['cpu_ms_per_request'] or 0:6.2f} ms/req  errors {result['errors']}", flush=True)


def run_rounds(systems: dict[str, System], sweep: Sweep, bodies: dict[str, list[bytes]], work: Path
               ) -> tuple[dict[str, Any], dict[str, str]]:
    """All rounds, one server at a time; the order turns by one each round. A system that fails is
    reported and left out of the later rounds."""
    raw: dict[str, Any] = {}
    failed: dict[str, str] = {}
    names = list(systems)
    for round_index in range(sweep.rounds):
        shift = round_index % len(names)
        order = [n for n in names[shift:] + names[:shift] if n not in failed]
        print(f"round {round_index + 1}/{sweep.rounds}: {', '.join(order)}", flush=True)
        for name in order:
            try:
                run_system_round(systems[name], sweep, bodies[name], work, raw)
            except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                failed[name] = str(exc)
                print(f"  {name} FAILED: {exc}", flush=True)
    return raw, failed


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    return {"rounds": len(runs), "throughput": med("throughput"), "p50_ms": med("p50_ms"),
            "p95_ms": med("p95_ms"), "p99_ms": med("p99_ms"), "cpu_ms_per_request": med("cpu_ms_per_request"),
            "errors": sum(r["errors"] for r in runs)}


def agreement(labels: list[str | None] | None, reference: list[str | None] | None) -> float | None:
    """Share of texts whose top label equals the reference's (a failed answer counts as a miss)."""
    if not labels or not reference:
        return None
    same = sum(1 for a, b in zip(labels, reference) if a is not None and a == b)
    return round(same / len(reference), 4)


def summarize(raw: dict[str, Any], names: list[str], levels: list[int]) -> dict[str, Any]:
    """Medians per system and level (in the order of `names`), and label agreement with the service."""
    reference = raw.get("service", {}).get("labels")
    summary: dict[str, Any] = {}
    for name in (n for n in names if n in raw):
        entry = raw[name]
        summary[name] = {
            "label_agreement": agreement(entry.get("labels"), reference),
            "failed_probes": sum(1 for label in entry.get("labels") or [] if label is None),
            "levels": {str(level): median_row(entry["runs"][str(level)]) for level in levels
                       if entry["runs"][str(level)]},
        }
    return summary
