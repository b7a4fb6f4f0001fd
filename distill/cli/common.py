"""What the `distill` commands share: one-line user errors, the run summary, and the export call."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from distill.data import DataError
from distill.student import StudentError
from distill.task_protocol import Task
from distill.teacher import TeacherError


@contextlib.contextmanager
def user_errors():
    """Turn the errors a user can fix into one-line messages with exit code 2, not tracebacks."""
    try:
        yield
    except (DataError, TeacherError, StudentError, FileExistsError) as error:
        raise typer.BadParameter(str(error)) from None


def print_summary(task: Task, report: dict, where: str = "") -> None:
    """One line: the headline metric of teacher and student, retention (undefined when the teacher
    scores 0), the PyTorch speed-up and the devices; `where` names the report it comes from."""
    from distill.run_report import devices_note

    teacher_row, student_row = report["models"][:2]
    metric = report.get("headline", task.headline)
    retention = (report.get("retention") or {}).get(metric)
    kept = "undefined (the teacher scores 0)" if retention is None else f"{retention:.3f}"
    typer.echo(f"teacher {metric} {_number(teacher_row.get(metric))}, student {metric} "
               f"{_number(student_row.get(metric))}, retention {kept}, speed-up "
               + ", ".join(f"{v}x@{k}" for k, v in (report.get("speedup") or {}).items())
               + devices_note(report["models"]) + (f"; {where}" if where else ""))


def _number(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def variant_settings(calibration_method: str | None):
    """The export's variant settings with the --calibration-method chosen (checked here)."""
    from dataclasses import replace

    from distill.export.static_int8 import METHODS
    from distill.export.variants import VariantSettings

    settings = VariantSettings()
    if calibration_method is None:
        return settings
    if calibration_method not in METHODS:
        raise typer.BadParameter(f"{calibration_method!r}; choose from {', '.join(METHODS)}",
                                 param_hint="--calibration-method")
    return replace(settings, calibration=replace(settings.calibration, method=calibration_method))


def export_student(student_dir, output_dir, name, variants, teacher_dir, report_dir, max_validation,
                   overwrite: bool = False, calibration_method: str | None = None) -> None:
    """Call the export step (distill.export), imported only when an export is asked for."""
    from distill.export.config import ExportConfig
    from distill.folder_export import export_model_folder

    settings = variant_settings(calibration_method)
    config = ExportConfig(student_dir=Path(student_dir), output_dir=Path(output_dir), name=name,
                          variants=tuple(variants), teacher_dir=teacher_dir, report_dir=report_dir,
                          max_validation_examples=max_validation, overwrite=overwrite, settings=settings)
    with user_errors():
        export_model_folder(config)
    typer.echo(f"model folder written to {output_dir}")
