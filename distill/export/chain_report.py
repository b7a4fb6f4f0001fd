"""The export chain in the distillation report: teacher (PyTorch) -> student (PyTorch) ->
student ONNX variants, each with accuracy and latency measured side by side in one run.

Rows follow the `report.json` schema of docs/CONTRACTS.md; rows this step measured carry
`"measured_in": "export"`. report.md is rendered with `distill.run_report.render_markdown`, followed
by a section on the export.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from distill import run_report as reporting
from distill.export.inputs import Batch
from distill.latency import LatencyConfig, measure


@dataclass
class ChainEntry:
    """One model of the chain: how to run it, and its predictions on the validation split."""

    name: str
    run: Callable[[Batch], np.ndarray]
    predictions: np.ndarray
    parameters: int | None = None
    size_bytes: int | None = None
    timing_batches: dict[int, Batch] = field(default_factory=dict)  # batch size -> inputs
    device: str | None = None  # where it runs, in words (`distill.devices.describe`)


def latency_ms(entry: ChainEntry, config: LatencyConfig) -> dict[str, float]:
    """Median latency in ms per batch size, via `distill.latency.measure`."""
    return {
        str(size): round(measure(lambda b=batch: entry.run(b), config).median_ms, 4)
        for size, batch in sorted(entry.timing_batches.items())
    }


def quality_row(entry: ChainEntry, quality: dict[str, float], config: LatencyConfig | None) -> dict[str, Any]:
    """A `models` row: the task's quality metrics, size and latency of one chain entry."""
    return {
        "name": entry.name,
        **{metric: round(value, 6) for metric, value in quality.items()},
        "parameters": entry.parameters,
        "size_bytes": entry.size_bytes,
        "latency_ms": latency_ms(entry, config) if config is not None else {},
        "device": entry.device,
        "measured_in": "export",
    }


def speedups(rows: list[dict[str, Any]], baseline: str) -> dict[str, dict[str, float]]:
    """Latency of `baseline` divided by each row's latency, per batch size."""
    base = next((r for r in rows if r["name"] == baseline), None)
    if base is None:
        return {}
    out: dict[str, dict[str, float]] = {}
    for row in rows:
        if row["name"] == baseline:
            continue
        out[row["name"]] = {
            size: round(base["latency_ms"][size] / ms, 3)
            for size, ms in row["latency_ms"].items()
            if size in base["latency_ms"] and ms > 0
        }
    return out


def merge_rows(report: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Put `rows` into report["models"]: a row with the same name is updated (fields this run
    measured win, the others are kept), new names are appended."""
    models = [dict(m) for m in report.get("models", [])]
    by_name = {m.get("name"): m for m in models}
    for row in rows:
        if row["name"] in by_name:
            by_name[row["name"]].update({k: v for k, v in row.items() if v is not None})
        else:
            models.append(dict(row))
    return {**report, "models": models}


def base_report(report_dir: Path | None, info: dict[str, Any]) -> dict[str, Any]:
    """The run's report.json when there is one, else a minimal report from distill_info.json."""
    if report_dir is not None and (Path(report_dir) / "report.json").is_file():
        return json.loads((Path(report_dir) / "report.json").read_text())
    keys = ("task", "teacher", "student_layers", "layer_map")
    return {**{k: info.get(k) for k in keys}, "models": []}


def render_export_section(report: dict[str, Any]) -> str:
    """Markdown for what only the export knows: speed-ups over the teacher and variant notes."""
    export = report.get("export", {})
    parts = ["## ONNX export", ""]
    parts += [f"Measured in one run on {export.get('validation_examples')} validation examples, "
              f"{export.get('threads')} thread(s); latency is the median of repeated calls.", ""]
    devices = {row.get("name"): row.get("device") for row in report.get("models", [])}

    def where(name: str) -> str:
        return f" on {devices[name]}" if devices.get(name) else ""

    for name, by_size in export.get("speedup_vs_teacher", {}).items():
        text = ", ".join(f"{v:.2f}x at batch {s}" for s, v in by_size.items())
        parts.append(f"- speed-up of {name}{where(name)} over the PyTorch teacher{where(reporting.TEACHER_ROW)}: {text}")
    for note in export.get("notes", []):
        parts.append(f"- **note:** {note}")
    return "\n".join(parts).rstrip() + "\n"


def refresh_summary(report: dict[str, Any], metrics: reporting.Metrics) -> dict[str, Any]:
    """Recompute retention / speed-up from the re-measured PyTorch rows (shared `summarise`)."""
    rows = {r.get("name"): r for r in report.get("models", [])}
    teacher, student = rows.get(reporting.TEACHER_ROW), rows.get(reporting.STUDENT_ROW)
    needed = ("latency_ms", "parameters")  # a metric without a value gets no retention (summarise)
    if teacher and student and all(teacher.get(k) and student.get(k) for k in needed):
        report = {**report, **reporting.summarise(teacher, student, reporting.keys(metrics))}
    return report


def copy_plots(report: dict[str, Any], source: Path | None, folder: Path) -> dict[str, Any]:
    """Copy the run's plots next to the report; drop the ones that cannot be found."""
    kept = []
    for name in report.get("plots") or []:
        path = Path(source) / name if source is not None else None
        if path is not None and path.is_file():
            shutil.copyfile(path, Path(folder) / name)
            kept.append(name)
    return {**report, "plots": kept} if "plots" in report else report


def replot_comparison(report: dict[str, Any], folder: Path, metrics: reporting.Metrics) -> None:
    """Redraw the run's teacher-vs-student comparison plot with the whole chain in it."""
    metric = metrics[0][0]
    rows = [r for r in report["models"] if r.get(metric) is not None]
    timed = all(r.get("latency_ms") for r in rows)
    if "comparison.png" not in (report.get("plots") or []) or not rows or not timed:
        return  # nothing new to draw (timing switched off): the run's plot stays
    reporting.plot_comparison(rows, folder, metric)


def write_report(report: dict[str, Any], folder: Path, metrics: reporting.Metrics) -> None:
    """report.json + report.md into `folder`: the run's report with the export section appended."""
    Path(folder, "report.json").write_text(json.dumps(reporting.with_metric_names(report, metrics), indent=2) + "\n")
    text = reporting.render_markdown(report, metrics).rstrip() + "\n\n" + render_export_section(report)
    Path(folder, "report.md").write_text(text)
