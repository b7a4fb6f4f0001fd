"""What an existing checkpoint is: where it came from (a local folder or a hub id at a revision),
its family and head (from config.json), hence the task it serves, and its sequence length.
Every refusal is a `CheckpointError` naming the folder, file or id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill.teacher import BUILTIN_TEACHERS, resolve_teacher
from modelfolder.manifest import (
    CLASSIFICATION,
    FEATURE_EXTRACTION,
    QUESTION_ANSWERING,
    REGRESSION,
    TOKEN_CLASSIFICATION,
)

# model_type -> positions a text may use fewer than max_position_embeddings (RoBERTa's padding offset)
FAMILIES = {"bert": 0, "distilbert": 0, "roberta": 2, "xlm-roberta": 2}
HEADS = {"ForSequenceClassification": CLASSIFICATION, "ForQuestionAnswering": QUESTION_ANSWERING,
         "ForTokenClassification": TOKEN_CLASSIFICATION}
ENCODERS = ("Model", "ForMaskedLM", "ForPreTraining")  # no task head: served as sentence embeddings
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")


class CheckpointError(Exception):
    """The checkpoint cannot be imported; the message names the file, folder or id."""


@dataclass(frozen=True)
class Checkpoint:
    folder: Path
    source: dict[str, Any]  # the manifest's `source`
    family: str  # config.json's model_type
    task: str
    config: dict[str, Any]

    @property
    def max_seq_len(self) -> int:
        return int(self.config.get("max_position_embeddings", 512)) - FAMILIES[self.family]

    def check_length(self, requested: int | None) -> None:
        """Refuse a requested sequence length longer than the position embeddings allow."""
        if requested is not None and requested > self.max_seq_len:
            raise CheckpointError(
                f"{self.folder / 'config.json'}: max_position_embeddings {self.config.get('max_position_embeddings')} "
                f"allows at most {self.max_seq_len} tokens; --max-seq-len {requested} is longer")


def locate(model: str) -> tuple[Path, dict[str, Any]]:
    """The checkpoint folder and its source: a built-in model's name (`minilm`), a local directory,
    or a hub id downloaded (cached)."""
    if model in BUILTIN_TEACHERS:
        path = Path(resolve_teacher(model))
        return path, {"kind": "local", "path": str(path), "builtin": model}
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve(), {"kind": "local", "path": str(path.resolve())}
    if path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise CheckpointError(f"{model}: not a checkpoint directory")
    return _download(model)


def _download(hub_id: str) -> tuple[Path, dict[str, Any]]:
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(hub_id))
    except Exception as error:  # offline, unknown id, gated: huggingface_hub raises many types
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"cannot download {hub_id!r} from the Hugging Face hub ({reason[:200]}); "
                              "without network, pass the checkpoint's local directory (a save_pretrained or "
                              "sentence-transformers folder) instead of the hub id") from None
    return folder, {"kind": "hub", "id": hub_id, "revision": folder.name}


def weight_files(folder: Path) -> list[Path]:
    files = sorted({f for pattern in WEIGHT_PATTERNS for f in folder.glob(pattern)})
    if not files:
        raise CheckpointError(f"{folder}: no weights (model.safetensors or pytorch_model.bin)")
    return files


def weights_sha256(folder: Path) -> str:
    """sha256 of the weight files' bytes, one after the other in name order (one file: its own sha256)."""
    digest = hashlib.sha256()
    for file in weight_files(folder):
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise CheckpointError(f"{path}: missing (not a transformers checkpoint)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: not valid JSON ({error})") from None


def task_of(config: dict[str, Any], folder: Path) -> str:
    """The task the checkpoint's head serves (a bare encoder or sentence-transformers folder: embeddings)."""
    architectures = config.get("architectures") or []
    if (folder / "modules.json").is_file() or not architectures:
        return FEATURE_EXTRACTION
    architecture = architectures[0]
    for suffix, task in HEADS.items():
        if architecture.endswith(suffix):
            if task == CLASSIFICATION and _one_output(config):
                return REGRESSION
            return task
    if architecture.endswith(ENCODERS):
        return FEATURE_EXTRACTION
    raise CheckpointError(f"{folder / 'config.json'}: architecture {architecture!r} has no supported head "
                          f"(supported: *{', *'.join(HEADS)}, or an encoder for sentence embeddings)")


def _one_output(config: dict[str, Any]) -> bool:
    labels = config.get("id2label") or {}
    return config.get("problem_type") == "regression" or len(labels) == 1 or config.get("num_labels") == 1


def inspect_checkpoint(model: str) -> Checkpoint:
    folder, source = locate(model)
    config = _read_config(folder)
    family = config.get("model_type")
    if family not in FAMILIES:
        raise CheckpointError(f"{folder / 'config.json'}: model_type {family!r} is not supported "
                              f"(supported: {', '.join(FAMILIES)})")
    if source["kind"] == "local":
        source["weights_sha256"] = weights_sha256(folder)
    else:
        weight_files(folder)
    return Checkpoint(folder, source, family, task_of(config, folder), config)
