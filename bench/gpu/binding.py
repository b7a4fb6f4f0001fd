"""Per fixed batch shape, what one model call costs on ONNX Runtime three ways (benchmark, not a
test; meant for a CUDA host, checked on a CPU):

    python -m bench.gpu.binding --model-folder models/sentiment [--variant fp16] [--calls 200]
        [--sizes 1,8,32,128] [--lengths 32,64] [--output-json F]

1. `run`: what the service does today (`ModelRuntime.run`: numpy in, numpy out);
2. `iobinding`: inputs bound from numpy, outputs left on the device and copied out once;
3. `cudagraph` (CUDA only): one session with `enable_cuda_graph`, every input and output an
   OrtValue on the device at a fixed address, one captured graph per shape (`gpu_graph_id`),
   inputs updated in place before each replay.
For each shape and way: the median and p99 of `--calls` timed calls after warm-up calls, and the
largest difference of its outputs from `run`'s. A way that fails on this host (no CUDA, an ONNX
Runtime without graph capture for some node) is reported with its error instead of numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from bench.harness.results import command_line, write_json
from service.providers import CUDA
from service.serving.loading import load_runtime
from service.settings import Settings

WARMUP_CALLS = 5


def feeds(runtime, size: int, length: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    vocab = runtime.tokenizer.get_vocab_size()
    ids = rng.integers(1000 if vocab > 2000 else 1, vocab - 1, size=(size, length), dtype=np.int64)
    mask = np.ones_like(ids)
    out = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in runtime.manifest.inputs:
        out["token_type_ids"] = np.zeros_like(ids)
    return out


def timed(call, calls: int) -> tuple[dict, list[np.ndarray]]:
    for _ in range(WARMUP_CALLS):
        outputs = call()
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        outputs = call()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return {"median_ms": statistics.median(seconds) * 1000, "p99_ms": seconds[int(0.99 * (len(seconds) - 1))] * 1000}, outputs


def plain(session, names, inputs):
    return lambda: session.run(names, inputs)


def bound(session, names, inputs, device: str):
    binding = session.io_binding()
    for name, array in inputs.items():
        binding.bind_cpu_input(name, array)
    for name in names:
        binding.bind_output(name, device)

    def call():
        session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()

    return call


def graphed(path: Path, names, inputs, graph_id: int, sessions: dict):
    """A CUDA-graph session (one for all shapes, graphs told apart by `gpu_graph_id`)."""
    if "session" not in sessions:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sessions["session"] = ort.InferenceSession(
            str(path), sess_options=options,
            providers=[(CUDA, {"enable_cuda_graph": "1"}), "CPUExecutionProvider"])
    session = sessions["session"]
    reference = session.run(names, inputs)  # output shapes and types for the fixed buffers
    device_inputs = {k: ort.OrtValue.ortvalue_from_numpy(v, "cuda", 0) for k, v in inputs.items()}
    device_outputs = [ort.OrtValue.ortvalue_from_shape_and_type(r.shape, r.dtype, "cuda", 0) for r in reference]
    binding = session.io_binding()
    for name, value in device_inputs.items():
        binding.bind_ortvalue_input(name, value)
    for name, value in zip(names, device_outputs):
        binding.bind_ortvalue_output(name, value)
    run_options = ort.RunOptions()
    run_options.add_run_config_entry("gpu_graph_id", str(graph_id))

    def call():
        for name, value in device_inputs.items():
            value.update_inplace(inputs[name])  # what a new batch of the same shape does
        session.run_with_iobinding(binding, run_options)
        return [value.numpy() for value in device_outputs]

    return call


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-folder", type=Path, required=True)
    p.add_argument("--variant", default="auto")
    p.add_argument("--providers", default="", help="comma separated; default: CUDA when available")
    p.add_argument("--sizes", default="1,8,32,128")
    p.add_argument("--lengths", default="32,64")
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--output-json", type=Path, default=None)
    args = p.parse_args(argv)
    folder = args.model_folder.resolve()
    settings = Settings(model_repository=folder.parent, models=[folder.name], variant=args.variant,
                        providers=args.providers.split(",") if args.providers else None, check_unvalidated=True)
    runtime = load_runtime(folder, settings)
    names = list(runtime.manifest.outputs)
    path = folder / runtime.manifest.variants[runtime.variant].file
    on_cuda = runtime.provider == CUDA
    device = "cuda" if on_cuda else "cpu"
    rows, sessions = [], {}
    shapes = [(int(s), int(n)) for n in args.lengths.split(",") for s in args.sizes.split(",")]
    for graph_id, (size, length) in enumerate(shapes, start=1):
        inputs = feeds(runtime, size, min(length, runtime.max_seq_len), graph_id)
        ways = {"run": lambda: plain(runtime.session, names, inputs),
                "iobinding": lambda: bound(runtime.session, names, inputs, device)}
        if on_cuda:
            ways["cudagraph"] = lambda: graphed(path, names, inputs, graph_id, sessions)
        baseline = None
        for way, build in ways.items():
            row = {"way": way, "size": size, "length": length, "variant": runtime.variant, "provider": runtime.provider}
            try:
                stats, outputs = timed(build(), args.calls)
            except Exception as exc:  # reported, not hidden: this way does not work on this host
                row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
                rows.append(row)
                print(f"{way:10} {size:4} x {length:<4} failed: {row['error']}", flush=True)
                continue
            if baseline is None:
                baseline = outputs
            diff = max(float(np.max(np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32))))
                       for a, b in zip(outputs, baseline))
            row.update(stats, max_abs_diff_vs_run=diff)
            rows.append(row)
            print(f"{way:10} {size:4} x {length:<4} median {stats['median_ms']:8.3f} ms  p99 {stats['p99_ms']:8.3f} ms"
                  f"  max |diff| {diff:.2e}", flush=True)
    result = {"model_folder": str(args.model_folder), "command": command_line("bench.gpu.binding", argv),
              "onnxruntime": ort.__version__, "rows": rows}
    if args.output_json:
        write_json(args.output_json, result, indent=1)


if __name__ == "__main__":
    main()
