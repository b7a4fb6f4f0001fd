"""report.json, report.md and the PNG plots of a distillation run (schema in docs/CONTRACTS.md).

The quality metrics of the rows are the task's (`Task.metrics`: row key and name for people),
passed in by the caller; without them, those of the default task, classification, whose metric
names are kept here, below every task."""

from __future__ import annotations

import json
from pathlib import Path

TEACHER_ROW = "teacher (PyTorch)"
STUDENT_ROW = "student (PyTorch)"
Metrics = tuple[tuple[str, str], ...]  # (key in a row, name for people), as `Task.metrics`
# The quality metrics of a classification report row (`distill.tasks.classification`'s `metrics`).
CLASSIFICATION_METRICS = (("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("positive_f1", "F1 (positive class)"),
                          ("matthews", "Matthews corr."))


def keys(metrics: Metrics) -> tuple[str, ...]:
    return tuple(key for key, _ in metrics)


def summarise(teacher_row: dict, student_row: dict, metrics: tuple[str, ...] = keys(CLASSIFICATION_METRICS)) -> dict:
    """Retention, speed-up and parameter reduction of the student relative to the teacher."""
    def ratio(a, b):
        return round(a / b, 4) if b and a is not None else None

    return {
        "retention": {m: ratio(student_row.get(m), teacher_row.get(m)) for m in metrics},
        "speedup": {
            size: ratio(teacher_row["latency_ms"][size], student_row["latency_ms"][size])
            for size in teacher_row["latency_ms"] if size in student_row["latency_ms"]
        },
        "parameter_reduction": round(1.0 - student_row["parameters"] / teacher_row["parameters"], 4),
    }


def with_metric_names(report: dict, metrics: Metrics) -> dict:
    """The report with `metric_names` (row key -> name for people): what a reader such as the
    service's model card shows without knowing the task."""
    return {**report, "metric_names": dict(metrics)}


def write_report(report: dict, folder: Path, metrics: Metrics = CLASSIFICATION_METRICS) -> None:
    """Write report.json and report.md into `folder` (created if missing)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(with_metric_names(report, metrics), indent=2) + "\n",
                                        encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(report, metrics), encoding="utf-8")


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _models_table(models: list[dict], metrics: Metrics) -> list[str]:
    sizes = sorted({s for row in models for s in (row.get("latency_ms") or {})}, key=int)
    header = ["model", "device", *(name for _, name in metrics), "parameters", "size (bytes)"] + [
        f"latency b={s} (ms)" for s in sizes]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in models:
        latency = row.get("latency_ms") or {}
        cells = [row.get("name"), row.get("device"), *(row.get(key) for key, _ in metrics), row.get("parameters"),
                 row.get("size_bytes")] + [latency.get(s) for s in sizes]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def render_markdown(report: dict, metrics: Metrics = CLASSIFICATION_METRICS) -> str:
    """The report for people: one table holding every row of `models`, then the summary ratios."""
    if isinstance(report.get("imported"), dict):
        return _imported_markdown(report, metrics)
    data = report.get("data", {})
    lines = [
        "# Distillation report", "",
        f"- task: {report.get('task')}",
        f"- teacher: {report.get('teacher')}",
        f"- data: {data.get('source')} ({data.get('subset') or 'default'}), "
        f"{data.get('train_examples')} train / {data.get('validation_examples')} validation examples",
        f"- student layers: {report.get('student_layers')}, layer map {report.get('layer_map')}", "",
        "## Models (validation split)", "",
        *_models_table(report.get("models", []), metrics), "",
        "## Student vs teacher", "",
    ]
    retention = report.get("retention") or {}
    lines += ["- retention: " + ", ".join(f"{name} {_pct(retention.get(key))}"
                                         for key, name in metrics)]
    speedup = report.get("speedup") or {}
    lines += [f"- PyTorch speed-up{devices_note(report.get('models', []))}: "
              + ", ".join(f"{v}x at batch {k}" for k, v in speedup.items())]
    lines += [f"- parameter reduction: {_pct(report.get('parameter_reduction'))}"]
    training = report.get("training") or {}
    if training:
        lines += ["", "## Training", ""]
        lines += [f"- {stage}: {info.get('steps')} steps, {info.get('seconds', 0):.0f} s" for stage, info in training.items()]
    plots = report.get("plots") or []
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def imported_origin(source: dict) -> str:
    """An imported checkpoint's origin as a user named it: hub id, built-in name or directory."""
    return str(source.get("id") if source.get("kind") == "hub" else source.get("builtin") or source.get("path"))


def _imported_markdown(report: dict, metrics: Metrics) -> str:
    """An imported checkpoint's report: where it came from and its rows; nothing was distilled, so
    no teacher, retention or training ("student" in a row's name is the imported model)."""
    imported = report["imported"]
    source = imported.get("source") or {}
    origin = imported_origin(source)
    revision = source.get("revision") or source.get("weights_sha256")
    lines = ["# Import report", "", f"- task: {report.get('task')}",
             f"- imported from: {origin} ({imported.get('family')}, {imported.get('architecture')}), "
             f"{'revision' if source.get('kind') == 'hub' else 'weights sha256'} {revision}",
             f"- checked on: {imported.get('validation')}", "",
             "## Models (checked inputs)", "", *_models_table(report.get("models", []), metrics)]
    return "\n".join(lines) + "\n"


def devices_note(models: list[dict]) -> str:
    """` (teacher on D1, student on D2)` for the first two rows, when they say where they ran."""
    pair = [row.get("device") for row in models[:2]]
    if len(pair) < 2 or not all(pair):
        return ""
    return f" (teacher on {pair[0]}, student on {pair[1]})"


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(histories: dict[str, list[dict]], folder: Path) -> str:
    """Training loss (and validation accuracy, when logged) per step for each stage."""
    plt = pyplot()
    figure, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for stage, history in histories.items():
        losses = [(h["step"], h["loss"]) for h in history if "loss" in h]
        accs = [(h["step"], h["eval_accuracy"]) for h in history if "eval_accuracy" in h]
        if losses:
            loss_ax.plot(*zip(*losses), label=stage)
        if accs:
            acc_ax.plot(*zip(*accs), marker="o", label=stage)
    loss_ax.set(title="training loss", xlabel="step")
    acc_ax.set(title="validation accuracy", xlabel="step")
    for ax in (loss_ax, acc_ax):
        if ax.get_legend_handles_labels()[0]:  # question answering logs no validation accuracy
            ax.legend()
    figure.tight_layout()
    figure.savefig(Path(folder) / "curves.png", dpi=100)
    plt.close(figure)
    return "curves.png"


def plot_comparison(models: list[dict], folder: Path, metric: str = "accuracy") -> str:
    """The quality metric (accuracy, or f1 for question answering) and latency per batch size
    of every model row, side by side."""
    plt = pyplot()
    names = [row["name"] for row in models]
    sizes = sorted({s for row in models for s in row.get("latency_ms", {})}, key=int)
    figure, axes = plt.subplots(1, 1 + len(sizes), figsize=(4 * (1 + len(sizes)), 4))
    axes[0].bar(names, [row[metric] for row in models])
    axes[0].set(title=metric, ylim=(0, 1))
    for ax, size in zip(axes[1:], sizes):
        ax.bar(names, [row["latency_ms"].get(size, 0) for row in models])
        ax.set(title=f"latency, batch {size} (ms)")
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=20)
    figure.tight_layout()
    figure.savefig(Path(folder) / "comparison.png", dpi=100)
    plt.close(figure)
    return "comparison.png"
