"""What an export is asked to do (`ExportConfig`) and the student it works on (`Student`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill.export.variants import VARIANTS, VariantSettings
from distill.latency import LatencyConfig


@dataclass(frozen=True)
class ExportConfig:
    student_dir: Path
    output_dir: Path
    name: str | None = None  # model name in the manifest; default output_dir.name
    variants: tuple[str, ...] = VARIANTS
    teacher_dir: Path | None = None  # PyTorch teacher for the latency chain; default from distill_info
    report_dir: Path | None = None  # run folder with report.json; default student_dir.parent
    max_validation_examples: int | None = None  # None: the whole validation split
    opset: int = 17
    batch_size: int = 16  # validation batch size for parity and accuracy
    seed: int = 0  # shuffle of the validation examples into batches
    latency_batch_sizes: tuple[int, ...] = (1, 32)
    latency: LatencyConfig | None = field(default_factory=LatencyConfig)  # None: skip timing
    threads: int | None = None  # torch and ONNX Runtime intra-op threads; None: their defaults
    settings: VariantSettings = field(default_factory=VariantSettings)
    overwrite: bool = False  # replace an existing output_dir


@dataclass
class Student:
    """A student being exported: model (eval mode), distill_info.json, labels (or none), task."""

    folder: Path
    model: Any
    info: dict[str, Any]
    labels: list[str]
    max_seq_len: int
    task: Any
