"""The model card: a model folder's distillation report (report.json) as one table of teacher,
student and ONNX variants, each row with its quality, retention, size, latency and speed-up
relative to the teacher row.

The schema of report.json is in docs/CONTRACTS.md; rows may lack any field (a report written
without timing, say), and the card then shows that field as missing rather than guessing it. The
quality metrics shown are the report's own `metric_names` (row key -> name for people) where it
has them, else its task's (`ServingTask.card_metrics`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.tasks.registry import TASKS
from service.web.files import REPORT_MD, report_plots

TEACHER_ROW = "teacher (PyTorch)"


class CardRow(BaseModel):
    name: str
    metrics: dict[str, float | None]
    retention: dict[str, float | None] = Field(description="metric / the teacher's metric")
    parameters: int | None = None
    size_bytes: int | None = None
    latency_ms: dict[str, float] = Field(default_factory=dict, description="batch size -> median ms")
    speedup: dict[str, float] = Field(
        default_factory=dict, description="batch size -> teacher latency / this row's latency")


class ModelCard(BaseModel):
    model: str
    task: str
    teacher: str | None = None
    student_layers: int | None = None
    layer_map: list[int] | None = None
    metrics: dict[str, str] = Field(description="row metric key -> name for people")
    batch_sizes: list[str] = Field(description="the batch sizes latency was measured at")
    baseline: str | None = Field(None, description="the row retention and speed-up compare to")
    rows: list[CardRow]
    plots: list[str] = Field(description="image files of the folder, fetched from files/{name}")
    notes: list[str] = Field(default_factory=list)
    markdown: str | None = Field(None, description="the report for people, fetched from files/{name}")


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 4) if a is not None and b else None


def _latency(row: dict) -> dict[str, float]:
    raw = row.get("latency_ms") or {}
    return {str(k): v for k, v in raw.items() if _number(v) is not None} if isinstance(raw, dict) else {}


def _row(row: dict, base: dict | None, metrics: dict[str, str]) -> CardRow:
    values = {key: _number(row.get(key)) for key in metrics}
    latency = _latency(row)
    base_latency = _latency(base) if base is not None else {}
    return CardRow(
        name=str(row.get("name", "?")),
        metrics=values,
        retention={k: _ratio(v, _number(base.get(k))) if base is not None else None for k, v in values.items()},
        parameters=row.get("parameters") if isinstance(row.get("parameters"), int) else None,
        size_bytes=row.get("size_bytes") if isinstance(row.get("size_bytes"), int) else None,
        latency_ms=latency,
        speedup={s: r for s, ms in latency.items() if (r := _ratio(base_latency.get(s), ms)) is not None},
    )


def card_metrics(report: dict, task: str) -> dict[str, str]:
    """Row key -> name for people: the report's `metric_names`, else those of its task (of the
    report, else of the model)."""
    named = report.get("metric_names")
    if isinstance(named, dict) and named and all(isinstance(v, str) for v in named.values()):
        return {str(k): v for k, v in named.items()}
    named_task = report.get("task")
    serving = (TASKS.get(named_task) if isinstance(named_task, str) else None) or TASKS.get(task)
    return dict(serving.card_metrics) if serving is not None else {}


def model_card(model: str, task: str, report: dict, servable: set[str]) -> ModelCard:
    """The card of one model from its report; the teacher row (else the first row) is the baseline.
    `servable`: the folder's files the page may fetch (plots and report.md not among them are left out)."""
    metrics = card_metrics(report, task)
    rows = [r for r in report.get("models") or [] if isinstance(r, dict)]
    base = next((r for r in rows if r.get("name") == TEACHER_ROW), rows[0] if rows else None)
    card_rows = [_row(r, base, metrics) for r in rows]
    sizes = sorted({s for r in card_rows for s in r.latency_ms}, key=lambda s: (len(s), s))
    layer_map = report.get("layer_map")
    notes = (report.get("export") or {}).get("notes") or []
    return ModelCard(
        model=model, task=task, teacher=report.get("teacher"),
        student_layers=report.get("student_layers"),
        layer_map=layer_map if isinstance(layer_map, list) else None,
        metrics=metrics, batch_sizes=sizes,
        baseline=str(base.get("name")) if base is not None else None,
        rows=card_rows, plots=[p for p in report_plots(report) if p in servable],
        notes=[str(n) for n in notes], markdown=REPORT_MD if REPORT_MD in servable else None,
    )
