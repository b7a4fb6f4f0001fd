"""ONNX Runtime execution providers: the names the service tells apart (`CPU`, `CUDA`: batching
limits, variant choice, runner counts) and the choice of providers for the `--providers` setting."""

from __future__ import annotations

from typing import Sequence

from modelfolder.manifest import ModelFolderError

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def choose_providers(requested: list[str] | None, available: Sequence[str]) -> list[str]:
    """Requested providers that this onnxruntime build has; auto: CUDA when present, then CPU."""
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise ModelFolderError(
                f"execution providers {missing} are not available (this build has {list(available)})"
            )
        return list(requested)
    return [CUDA, CPU] if CUDA in available else [CPU]
