"""Benchmark (not a test): static INT8 of an imported checkpoint under each calibration choice -- the
range method (entropy, min-max, percentile) and which MatMuls stay fp32 (none; the feed-forward
down projections; both feed-forward projections) -- judged as the import judges it (the headline
metric of the INT8 graph against fp32 on the import's checked inputs).

    python -m bench.distill.import_int8_choices [--model minilm] [--output runs/import-int8]
        [--json docs/import_int8_choices.json]

Each row: the choice, the INT8 headline (mean cosine to fp32 for a sentence-embedding model) and
the largest output difference, and the import's wall time with the load average. The export's own
fallback (the feed-forward down projections in fp32 when all-quantised INT8 loses too much) is off.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from dataclasses import replace
from pathlib import Path

from bench.harness.paths import ROOT
from bench.harness.results import write_json

CHOICES = {  # name -> (range method, kept MatMuls: "down" projections, "up" projections)
    "entropy, all quantised": ("entropy", ()),
    "min-max, all quantised": ("minmax", ()),
    "percentile, all quantised": ("percentile", ()),
    "entropy, feed-forward down in fp32": ("entropy", ("down",)),
    "entropy, feed-forward down and up in fp32": ("entropy", ("down", "up")),
}


def kept_matmuls(folder: Path, parts: tuple[str, ...]) -> tuple[str, ...]:
    """The fp32 graph's feed-forward MatMuls by weight shape: down (rows > columns), up (columns > rows,
    the 4x expansion)."""
    import onnx

    from distill.export.static_int8 import wide_input_matmuls

    graph = onnx.load(str(folder / "model.onnx"), load_external_data=False).graph
    shapes = {t.name: list(t.dims) for t in graph.initializer}
    up = [n.name for n in graph.node if n.op_type == "MatMul"
          and any(len(shapes.get(i, [])) == 2 and shapes[i][1] >= 4 * shapes[i][0] for i in n.input)]
    down = wide_input_matmuls(folder / "model.onnx")
    return tuple((down if "down" in parts else []) + (up if "up" in parts else []))


def run(model: str, output: Path) -> list[dict]:
    from distill.export.variants import VariantSettings
    from distill.importer.import_checkpoint import ImportConfig, import_checkpoint

    rows = []
    reference = None
    for name, (method, parts) in CHOICES.items():
        settings = VariantSettings(int8_fallback=False)
        keep = kept_matmuls(reference, parts) if parts and reference is not None else ()
        calibration = replace(settings.calibration, method=method, keep_fp32=keep)
        load, start = os.getloadavg()[0], time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            manifest, _ = import_checkpoint(ImportConfig(model, output / name.replace(" ", "_").replace(",", ""),
                                                         variants=("fp32", "int8"), latency=None, overwrite=True,
                                                         settings=replace(settings, calibration=calibration)))
        reference = reference or output / name.replace(" ", "_").replace(",", "")
        validation = manifest.variants["int8"].validation.model_dump()
        metric = manifest.headline_metric
        rows.append({"choice": name, "kept_fp32": len(keep), "metric": metric, "int8": validation.get(metric),
                     "max_abs_diff": validation.get("max_abs_diff"), "seconds": round(time.perf_counter() - start, 1),
                     "load_average": round(load, 2)})
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "import-int8")
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "import_int8_choices.json")
    args = parser.parse_args(argv)
    write_json(args.json, {"model": args.model, "rows": run(args.model, args.output)})


if __name__ == "__main__":
    main()
