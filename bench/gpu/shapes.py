"""Per-call latency of a model on new and on already-seen input shapes (benchmark, not a test):

    python -m bench.gpu.shapes --model-folder DIR [--providers CUDAExecutionProvider,CPUExecutionProvider]

For fp32 and fp16: 200 batches of random shapes (1-128 rows, 5-64 tokens) run through
`ModelRuntime.run` twice -- the first pass meets most shapes for the first time, the second has
seen them all -- once as they come and once with the fixed shapes of `service.batching.shapes` after the
warm-up the server runs. Prints p50/p90/max per pass (ms). This is how the ~45 ms first-shape cost
of fp16 on CUDA was found (docs/RESULTS.md, "GPU (CUDA): reading the runs").
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from service.runtime.model import probe_tokens
from service.serving.loading import load_runtime
from service.serving.state import warmup_shapes
from service.settings import Settings


def timed_pass(runtime, shapes: list[tuple[int, int]]) -> dict[str, float]:
    times = []
    for rows, length in shapes:
        batch = probe_tokens(runtime, min(length, runtime.max_seq_len), rows)
        started = time.perf_counter()
        runtime.run(batch)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50": round(times[len(times) // 2], 3), "p90": round(times[int(len(times) * 0.9)], 3),
            "max": round(times[-1], 3)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-folder", type=Path, required=True)
    p.add_argument("--providers", default="CUDAExecutionProvider,CPUExecutionProvider")
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--max-items", type=int, default=128)
    args = p.parse_args(argv)
    folder = args.model_folder.resolve()
    rng = random.Random(0)
    shapes = [(rng.randint(1, args.max_items), rng.randint(5, 64)) for _ in range(args.calls)]
    out = {}
    for variant in ("fp32", "fp16"):
        for fixed in (False, True):
            settings = Settings(model_repository=folder.parent, providers=args.providers.split(","), variant=variant)
            runtime = load_runtime(folder, settings)  # a fresh session: no shape seen yet
            runtime.fixed_shapes = fixed
            if fixed:  # what the server's warm-up runs before it is ready
                for rows, length in warmup_shapes(runtime.max_seq_len, args.max_items, fixed_shapes=True):
                    runtime.run(probe_tokens(runtime, length, rows))
            for name in ("first", "again"):
                key = f"{variant} {'fixed shapes' if fixed else 'as they come'} {name}"
                out[key] = timed_pass(runtime, shapes)
                print(key, out[key], flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
