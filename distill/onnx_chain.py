"""The models of the export chain, run on the same validation inputs in the same process:
teacher (PyTorch) -> student (PyTorch) -> student ONNX variants.

PyTorch models are timed as a user would load them (the default attention implementation);
ONNX variants on the CPU provider, fp16 only where CUDA exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from distill.export_report import (
    ChainEntry, base_report, chain_row, copy_plots, merge_rows, refresh_summary,
    replot_comparison, speedups, write_report,
)
from distill.onnx_graph import CUDA, open_session, ort_runner, torch_runner
from distill.onnx_inputs import (
    encode, fixed_batch, load_tokenizer, make_batches, pad_token_id,
)
from distill.parity import collect

if TYPE_CHECKING:
    from distill.export import ExportConfig, Inputs, Student
    from distill.onnx_variants import BuiltVariant

TEACHER = "teacher (PyTorch)"
STUDENT = "student (PyTorch)"
NAMES = {
    "fp32": "student fp32 (ONNX Runtime)",
    "int8": "student INT8 (ONNX Runtime)",
    "fp16": "student fp16 (ONNX Runtime, CUDA)",
}


def _timing(encoded: list[list[int]], pad_id: int, sizes: tuple[int, ...]):
    return {size: fixed_batch(encoded, size, pad_id) for size in sizes}


def _parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _weights_size(folder: Path) -> int | None:
    files = list(Path(folder).glob("*.safetensors")) or list(Path(folder).glob("*.bin"))
    return sum(f.stat().st_size for f in files) or None


def teacher_folder(config: ExportConfig, info: dict[str, Any]) -> Path | None:
    folder = config.teacher_dir or info.get("teacher_dir")
    if folder and (Path(folder) / "config.json").is_file():
        return Path(folder)
    return None


def _label_map(model: Any, labels: list[str]) -> np.ndarray:
    """Teacher logits index -> student label index (by name; by position if names differ)."""
    names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    if set(names) == set(labels):
        return np.asarray([labels.index(n) for n in names])
    return np.arange(len(names))


def pytorch_entry(name: str, folder: Path, student: Student, inputs: Inputs,
                  config: ExportConfig) -> ChainEntry:
    """Load a classifier from `folder` and run it on the validation split (its own tokenizer)."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    tokenizer_file = folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        tokenizer_file = student.folder / "tokenizer.json"
    tokenizer = load_tokenizer(tokenizer_file, student.max_seq_len)
    encoded = encode(tokenizer, inputs.validation.texts)
    pad_id = pad_token_id(tokenizer, model.config.pad_token_id or 0)
    run = torch_runner(model, "logits")
    outputs = collect(run, make_batches(encoded, config.batch_size, pad_id, config.seed))
    predictions = _label_map(model, student.labels)[outputs.predictions]
    return ChainEntry(name, run, predictions, _parameters(model), _weights_size(folder),
                      _timing(encoded, pad_id, config.latency_batch_sizes))


def onnx_entry(variant: BuiltVariant, inputs: Inputs, config: ExportConfig) -> ChainEntry:
    providers = [CUDA] if variant.name == "fp16" else ["CPUExecutionProvider"]
    session = variant.session or open_session(variant.path, providers, config.threads)
    return ChainEntry(NAMES[variant.name], ort_runner(session, "logits"),
                      variant.outputs.predictions, None, variant.path.stat().st_size,
                      _timing(inputs.encoded, inputs.pad_id, config.latency_batch_sizes))


def chain_entries(student: Student, inputs: Inputs, variants: dict[str, BuiltVariant],
                  config: ExportConfig) -> list[ChainEntry]:
    return chain_of(student, variants, config,
                    lambda name, folder: pytorch_entry(name, folder, student, inputs, config),
                    lambda built: onnx_entry(built, inputs, config))


def chain_of(student: Student, variants: dict[str, BuiltVariant], config: ExportConfig,
             pytorch: Callable[[str, Path], Any], onnx: Callable[[BuiltVariant], Any]) -> list[Any]:
    """The chain in order, each model made by `pytorch(name, folder)` or `onnx(variant)`: the
    teacher (when its checkpoint is found), the student, then the variants that were built."""
    entries = []
    teacher = teacher_folder(config, student.info)
    if teacher is not None:
        entries.append(pytorch(TEACHER, teacher))
    entries.append(pytorch(STUDENT, student.folder))
    for name in ("fp32", "int8", "fp16"):
        built = variants.get(name)
        if name in config.variants and built is not None and built.outputs is not None:
            entries.append(onnx(built))
    return entries


def _report_dir(config: ExportConfig) -> Path | None:
    if config.report_dir is not None:
        return Path(config.report_dir)
    parent = Path(config.student_dir).resolve().parent
    return parent if (parent / "report.json").is_file() else None


def write_chain_report(folder: Path, student: Student, inputs: Inputs,
                       variants: dict[str, BuiltVariant], config: ExportConfig) -> dict[str, Any]:
    """Measure the chain, merge it into the run's report and write report.json/.md to `folder`."""
    entries = chain_entries(student, inputs, variants, config)
    labels, count = inputs.validation.labels, len(student.labels)
    rows = [chain_row(e, labels, count, config.latency) for e in entries]
    return finish_chain_report(folder, student, rows, int(len(labels)), variants, config)


def finish_chain_report(folder: Path, student: Student, rows: list[dict[str, Any]], examples: int,
                        variants: dict[str, BuiltVariant], config: ExportConfig) -> dict[str, Any]:
    """Merge the measured chain rows into the run's report and write report.json/.md to `folder`."""
    import torch

    source = _report_dir(config)
    report = refresh_summary(merge_rows(base_report(source, student.info), rows))
    report = copy_plots(report, source, folder)
    notes = [v.validation["note"] for v in variants.values()
             if v.validation.get("note") and v.validation.get("status") != "passed"]
    if teacher_folder(config, student.info) is None:
        notes.append("teacher not measured: no teacher checkpoint given or found")
    report["export"] = {
        "chain": [r["name"] for r in rows],
        "validation_examples": examples,
        "threads": torch.get_num_threads(),
        "latency": None if config.latency is None else {
            "statistic": "median", "warmup": config.latency.warmup,
            "repeats": config.latency.repeats},
        "speedup_vs_teacher": speedups(rows, TEACHER) if config.latency else {},
        "variants": {n: v.validation for n, v in variants.items() if n in config.variants},
        "notes": notes,
    }
    report = json.loads(json.dumps(report))
    replot_comparison(report, folder)
    write_report(report, folder)
    return report
