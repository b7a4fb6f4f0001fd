"""The export chain, run on the same validation inputs in one process: teacher (PyTorch) ->
student (PyTorch) -> student ONNX variants, one report row each. The task's `chain_rows` says how
to load, run and score each model (with `pytorch_entry` / `onnx_entry` here). PyTorch models are
timed as a user would load them; ONNX variants on the CPU provider, fp16 only where CUDA exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from distill.devices import describe
from distill.evaluate import device_of, parameter_count
from distill.export.chain_report import (
    ChainEntry,
    base_report,
    copy_plots,
    merge_rows,
    refresh_summary,
    replot_comparison,
    speedups,
    write_report,
)
from distill.export.graph import CUDA, open_session
from distill.export.inputs import Batch, fixed_batch
from distill.run_report import STUDENT_ROW, TEACHER_ROW, imported_origin

if TYPE_CHECKING:
    from distill.export.config import ExportConfig, Student
    from distill.export.variants import BuiltVariant

NAMES = {
    "fp32": "student fp32 (ONNX Runtime)",
    "int8": "student INT8 (ONNX Runtime)",
    "int8-dynamic": "student INT8 dynamic (ONNX Runtime; answers depend on the batch)",
    "fp16": "student fp16 (ONNX Runtime, CUDA)",
}
Runner = Callable[[Batch], np.ndarray]


def timing_batches(encoded: list[list[int]], pad_id: int, sizes: tuple[int, ...]) -> dict[int, Batch]:
    return {size: fixed_batch(encoded, size, pad_id) for size in sizes}


def weights_size(folder: Path) -> int | None:
    files = list(Path(folder).glob("*.safetensors")) or list(Path(folder).glob("*.bin"))
    return sum(f.stat().st_size for f in files) or None


def teacher_folder(config: ExportConfig, info: dict[str, Any]) -> Path | None:
    folder = config.teacher_dir or info.get("teacher_dir")
    if folder and (Path(folder) / "config.json").is_file():
        return Path(folder)
    return None


def pytorch_entry(name: str, model: Any, folder: Path, run: Runner, predictions: np.ndarray,
                  timing: dict[int, Batch]) -> ChainEntry:
    """A PyTorch checkpoint of the chain, its parameters and the size of its weight files."""
    return ChainEntry(name, run, predictions, parameter_count(model), weights_size(folder), timing,
                      describe(device_of(model)))


def onnx_entry(variant: BuiltVariant, runner: Callable[[Any], Runner], timing: dict[int, Batch],
               threads: int | None) -> ChainEntry:
    """An ONNX variant of the chain, run by `runner(session)` (its predictions are the ones the
    variant's validation measured)."""
    providers = [CUDA] if variant.name == "fp16" else ["CPUExecutionProvider"]
    session = variant.session or open_session(variant.path, providers, threads)
    device = "cuda" if session.get_providers()[0] == CUDA else f"cpu ({threads or 'default'} threads)"
    return ChainEntry(NAMES[variant.name], runner(session), variant.outputs.predictions, None,
                      variant.path.stat().st_size, timing, device)


def chain_of(student: Student, variants: dict[str, BuiltVariant], config: ExportConfig,
             pytorch: Callable[[str, Path], Any], onnx: Callable[[BuiltVariant], Any]) -> list[Any]:
    """The chain in order, each model made by `pytorch(name, folder)` or `onnx(variant)`: the
    teacher (when its checkpoint is found), the student, then the variants that were built."""
    entries = []
    teacher = teacher_folder(config, student.info)
    if teacher is not None:
        entries.append(pytorch(TEACHER_ROW, teacher))
    entries.append(pytorch(STUDENT_ROW, student.folder))
    for name in NAMES:
        built = variants.get(name)
        if name in config.variants and built is not None and built.outputs is not None:
            entries.append(onnx(built))
    return entries


def _report_dir(config: ExportConfig) -> Path | None:
    if config.report_dir is not None:
        return Path(config.report_dir)
    parent = Path(config.student_dir).resolve().parent
    return parent if (parent / "report.json").is_file() else None


def _imported_note(imported: dict[str, Any]) -> str:
    origin = imported_origin(imported.get("source") or {})
    return (f"imported from {origin} ({imported.get('architecture')}), not distilled here: the rows compare the "
            "variants with the checkpoint's own fp32")


def write_chain_report(folder: Path, student: Student, inputs: Any, variants: dict[str, BuiltVariant],
                       config: ExportConfig) -> dict[str, Any]:
    """Measure the chain (the task's rows), merge it into the run's report, write report.json/.md."""
    import torch

    rows, examples = student.task.chain_rows(student, inputs, variants, config)
    source = _report_dir(config)
    metrics = student.task.metrics
    report = refresh_summary(merge_rows(base_report(source, student.info), rows), metrics)
    report = copy_plots(report, source, folder)
    notes = [v.validation["note"] for v in variants.values()
             if v.validation.get("note") and v.validation.get("status") != "passed"]
    notes += [v.validation["fusion_warning"] for v in variants.values() if v.validation.get("fusion_warning")]
    notes += [f"{n}: {v.batch_invariance['note']}" for n, v in variants.items()
              if v.batch_invariance and v.batch_invariance["status"] == "failed"]
    if isinstance(report.get("imported"), dict):
        notes.append(_imported_note(report["imported"]))
    elif teacher_folder(config, student.info) is None:
        notes.append("teacher not measured: no teacher checkpoint given or found")
    report["export"] = {
        "chain": [r["name"] for r in rows],
        "validation_examples": examples,
        "threads": torch.get_num_threads(),
        "latency": None if config.latency is None else {
            "statistic": "median", "warmup": config.latency.warmup,
            "repeats": config.latency.repeats},
        "speedup_vs_teacher": speedups(rows, TEACHER_ROW) if config.latency else {},
        "variants": {n: {**v.validation, **({"batch_invariance": v.batch_invariance} if v.batch_invariance else {})}
                     for n, v in variants.items() if n in config.variants},
        "notes": notes,
    }
    report = json.loads(json.dumps(report))
    replot_comparison(report, folder, metrics)
    write_report(report, folder, metrics)
    return report
