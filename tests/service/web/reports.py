"""Distillation reports for test model folders: report.json in the schema of docs/CONTRACTS.md,
report.md and two small PNG plots, plus files the page must never serve."""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

PLOTS = ["curves.png", "comparison.png"]
# Names a report might list that must not be served: outside the folder, hidden, not an image.
BAD_PLOTS = ["../secret.png", "sub/inner.png", ".hidden.png", "manifest.json", "link.png"]
SECRET = b"not for the page"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid single-colour PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def classification_report() -> dict:
    rows = [
        ("teacher (PyTorch)", 0.9, 0.89, 22_700_000, None, {"1": 5.0, "32": 80.0}),
        ("student (PyTorch)", 0.88, 0.87, 11_000_000, None, {"1": 2.5, "32": 40.0}),
        ("student ONNX fp32", 0.88, 0.87, None, 44_000_000, {"1": 1.25, "32": 30.0}),
        ("student ONNX int8", 0.86, 0.85, None, 11_500_000, {"1": 1.0}),
    ]
    return {
        "task": "text-classification", "teacher": "tiny teacher", "data": {"name": "tiny"},
        "student_layers": 2, "layer_map": [0, 2],
        "models": [
            {"name": n, "accuracy": a, "macro_f1": f, "parameters": p, "size_bytes": s, "latency_ms": lat}
            for n, a, f, p, s, lat in rows
        ],
        "retention": {"accuracy": 0.9778, "macro_f1": 0.9775}, "speedup": {"1": 2.0, "32": 2.0},
        "plots": PLOTS + BAD_PLOTS,
        "export": {"notes": ["int8 accuracy drop within 1 point"]},
    }


def write_report_files(folder: Path) -> dict:
    """Put a report, its plots and decoys into a model folder; returns the report."""
    folder = Path(folder)
    report = classification_report()
    (folder / "report.json").write_text(json.dumps(report, indent=2))
    (folder / "report.md").write_text("# Distillation report\n\n| model | accuracy |\n")
    for i, name in enumerate(PLOTS):
        (folder / name).write_bytes(png(24 + i, 16, (30 * i, 90, 160)))
    (folder.parent / "secret.png").write_bytes(SECRET)
    (folder / ".hidden.png").write_bytes(SECRET)
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "inner.png").write_bytes(SECRET)
    if not (folder / "link.png").exists():
        os.symlink(folder.parent / "secret.png", folder / "link.png")
    return report
