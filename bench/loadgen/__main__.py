"""The load generator's command line: one run, its result as JSON on stdout.

    python -m bench.loadgen URL BODIES.jsonl --concurrency 64 --seconds 10      # closed loop
    python -m bench.loadgen URL BODIES.jsonl --rate 200 --seconds 10            # open loop
    python -m bench.loadgen ...                                              # the same
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bench.loadgen import Plan, read_requests, run
from bench.loadgen.procs import check


def cpu_list(text: str) -> tuple[int, ...]:
    """`2,3` or `0-3,8` as CPU numbers."""
    cpus: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        cpus += range(int(first), int(last or first) + 1)
    return tuple(sorted(set(cpus)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Closed loop unless --rate is given. Output: LoadResult as JSON "
                                       "(--outcomes adds every request's outcome).")
    p.add_argument("url", help="full URL, e.g. http://127.0.0.1:8000/v1/sentiment")
    p.add_argument("bodies", type=Path, help="one JSON request body per line (with --paths: [PATH, BODY])")
    p.add_argument("--concurrency", type=int, default=16, help="closed loop: connections (default 16)")
    p.add_argument("--rate", type=float, default=None, help="open loop: requests per second")
    p.add_argument("--seconds", type=float, default=10.0, help="measured seconds (default 10)")
    p.add_argument("--settle-seconds", type=float, default=0.0,
                   help="closed loop: load before the measured window (default 0)")
    p.add_argument("--processes", type=int, default=None,
                   help="generator processes (default: one per --cpus CPU, else half the CPUs)")
    p.add_argument("--cpus", type=cpu_list, default=None, help="pin the generator to these CPUs, e.g. 2,3 or 4-7")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per connect and per answer (default 60)")
    p.add_argument("--no-keepalive", action="store_true", help="open loop: a new connection per request")
    p.add_argument("--paths", action="store_true", help="each line of BODIES is [PATH, BODY]")
    p.add_argument("--outcomes", action="store_true", help="print every request's outcome too")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    plan = Plan(args.url, tuple(read_requests(args.bodies, args.paths)), seconds=args.seconds,
                concurrency=args.concurrency, rate=args.rate, settle_s=args.settle_seconds,
                processes=args.processes, cpus=args.cpus, timeout_s=args.timeout,
                keepalive=not args.no_keepalive, keep_outcomes=args.outcomes or None)
    try:
        check(plan)
        if args.cpus:
            os.sched_setaffinity(0, args.cpus)  # this process too (it mostly waits)
        result = run(plan)
    except (ValueError, RuntimeError) as exc:
        raise SystemExit(f"loadgen: {exc}") from None
    out = result.as_dict()
    if args.outcomes:
        out["outcomes"] = [o.__dict__ for o in result.outcomes]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
