"""`GET /info` of text-embeddings-inference for one model: its fields (router/src/lib.rs `Info`)
filled from the model's manifest, the variant in use and the server's limits."""

from __future__ import annotations

from typing import Any

from service.batching.policy import BatchLimits
from service.runtime.model import ModelRuntime
from service.settings import Settings
from service.tasks.registry import get_task

DTYPES = {"fp32": "float32", "int8": "int8", "fp16": "float16"}


def model_type(runtime: ModelRuntime) -> dict[str, Any]:
    """TEI's model_type: {"classifier": {id2label, label2id}} or {"embedding": {pooling}}; a model
    of a task TEI does not serve is named by its task (token classification with its tags)."""
    manifest = runtime.manifest
    kind = get_task(runtime.task).tei_type
    if kind == "embedding":
        return {"embedding": {"pooling": manifest.embedding.pooling if manifest.embedding is not None else "mean"}}
    labels = manifest.labels or (["LABEL_0"] if kind == "classifier" else [])
    mapping = {"id2label": {str(i): label for i, label in enumerate(labels)},
               "label2id": {label: i for i, label in enumerate(labels)}}
    return {kind or runtime.task.replace("-", "_"): mapping if labels else {}}


def info(runtime: ModelRuntime, settings: Settings, limits: BatchLimits | None, version: str) -> dict[str, Any]:
    source = runtime.manifest.source or {}
    return {
        "model_id": runtime.name,
        "model_sha": source.get("revision") or source.get("weights_sha256"),
        "model_dtype": DTYPES.get(runtime.manifest.variants[runtime.variant].precision, "float32"),
        "model_type": model_type(runtime),
        "max_concurrent_requests": settings.queue_limit,
        "max_input_length": runtime.max_seq_len,
        "max_batch_tokens": limits.max_tokens if limits is not None else 0,
        "max_batch_requests": limits.max_items if limits is not None else None,
        "max_client_batch_size": settings.max_inputs,
        "auto_truncate": False,
        "tokenization_workers": settings.preprocessing_threads,
        "version": version,
        "sha": None,
        "docker_label": None,
    }
