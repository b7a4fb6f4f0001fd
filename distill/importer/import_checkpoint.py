"""`distill import`: an existing checkpoint into a model folder. The checkpoint's model files are
linked into a temporary folder laid out like a student folder (its tokenizer saved there, a
distill_info.json, the validation file its task reads), and that folder goes through the export of
`distill export` unchanged: staging, checksums, variants checked against the PyTorch model, static
INT8 calibrated on the validation inputs, the alone-vs-batched check and the validation sample."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.calibration import CALIBRATION_SIZE, write_calibration
from distill.export.config import ExportConfig, Student
from distill.export.variants import IMPORT_VARIANTS, VariantSettings
from distill.folder_export import export_model_folder
from distill.importer.checkpoint import Checkpoint, CheckpointError, inspect_checkpoint, weight_files
from distill.importer.reuse import Decision, decide, existing_source
from distill.importer.samples import movie_sentences
from distill.importer.segments import ImportedTask
from distill.importer.validation import PREPARATIONS, write_validation
from distill.latency import LatencyConfig
from distill.student_info import write_info
from distill.tasks.registry import get_task
from modelfolder.manifest import read_manifest

if TYPE_CHECKING:
    from modelfolder.manifest import Manifest

MODEL_FILES = ("config.json", "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json")
# a tokenizer's vocabulary: tokenizer.json (fast), or the files a fast one is built from
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "sentencepiece.bpe.model", "spiece.model")
LONGEST_TOKENIZER_LIMIT = 1_000_000  # a tokenizer's model_max_length above this means "not set"


@dataclass(frozen=True)
class ImportConfig:
    model: str  # a checkpoint directory or a Hugging Face hub id
    output_dir: Path
    name: str | None = None
    variants: tuple[str, ...] = IMPORT_VARIANTS
    validation_data: Path | None = None  # rows in the format of the task's validation file
    overwrite: bool = False
    sample_size: int = 128  # built-in validation inputs when validation_data is None
    latency: LatencyConfig | None = field(default_factory=LatencyConfig)
    threads: int | None = None
    max_seq_len: int | None = None  # None: the longest the checkpoint and its task allow
    if_changed: bool = False  # keep an import of the same source; import again over one whose source changed
    settings: VariantSettings = field(default_factory=VariantSettings)  # tolerances, static INT8 calibration


def _refuse_existing(target: Path, overwrite: bool) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not overwrite:
        raise FileExistsError(f"{target}: exists and is not empty; pass --overwrite to replace it")


def _link_model_files(source: Path, folder: Path) -> None:
    """Symbolic links to the model's own files (config, weights, sentence-transformers modules);
    nothing is ever written through them."""
    folder.mkdir()
    names = set(MODEL_FILES) | {f.name for f in weight_files(source)} | {f.name for f in source.glob("*.index.json")}
    names |= {d.name for d in source.iterdir() if d.is_dir() and d.name[:1].isdigit() and "_" in d.name}
    for name in sorted(names):
        if (source / name).exists():
            os.symlink(source / name, folder / name)


def _tokenizer(checkpoint: Checkpoint):
    from transformers import AutoTokenizer

    if not any((checkpoint.folder / name).is_file() for name in TOKENIZER_FILES):
        # transformers would build a tokenizer with an empty vocabulary rather than fail
        raise CheckpointError(f"{checkpoint.folder}: no usable tokenizer (none of {', '.join(TOKENIZER_FILES)})")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(checkpoint.folder))
    except Exception as error:  # transformers raises OSError, ValueError, TypeError for missing files
        raise CheckpointError(f"{checkpoint.folder}: no usable tokenizer ({_first_line(error)})") from None
    if not getattr(tokenizer, "is_fast", False):
        raise CheckpointError(f"{checkpoint.folder}: no fast tokenizer (tokenizer.json or the files to build one)")
    return tokenizer


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]


def _load(task: Any, folder: Path, checkpoint: Checkpoint):
    try:
        return task.load_model(str(folder), attn_implementation="eager").eval()
    except Exception as error:  # safetensors, torch and transformers each raise their own types
        files = ", ".join(str(f) for f in weight_files(checkpoint.folder))
        raise CheckpointError(f"{files}: cannot be loaded ({_first_line(error)})") from None


def _max_seq_len(checkpoint: Checkpoint, tokenizer, requested: int | None) -> int:
    if requested is not None:
        return requested
    limit = int(getattr(tokenizer, "model_max_length", 0) or 0)
    return min(checkpoint.max_seq_len, limit) if 0 < limit < LONGEST_TOKENIZER_LIMIT else checkpoint.max_seq_len


def _info(checkpoint: Checkpoint, task: Any, labels: list[str], settings: dict, validation: str) -> dict:
    return {"task": task.name, "teacher": None, "student_layers": None, "layer_map": None, "labels": labels,
            "headline": task.headline, "metrics": {}, **settings, "source": checkpoint.source,
            "imported": {"family": checkpoint.family, "architecture": (checkpoint.config.get("architectures") or [None])[0],
                         "validation": validation}}


def _student(config: ImportConfig, checkpoint: Checkpoint, folder: Path) -> Student:
    """The temporary student-like folder of the checkpoint, and the checkpoint loaded from it."""
    preparation = PREPARATIONS[checkpoint.task]
    tokenizer = _tokenizer(checkpoint)
    _link_model_files(checkpoint.folder, folder)
    tokenizer.save_pretrained(str(folder))
    task = ImportedTask(get_task(checkpoint.task), tokenizer.sep_token_id if preparation.segments else None)
    model = _load(task, folder, checkpoint)
    labels = task.labels_of(model, {}, checkpoint.folder / "config.json")
    settings = preparation.settings(_max_seq_len(checkpoint, tokenizer, config.max_seq_len))
    validation = write_validation(folder / task.validation_file, config.validation_data, model, tokenizer,
                                  preparation, settings["max_seq_len"], config.sample_size)
    if config.validation_data is None and not preparation.segments:
        texts = movie_sentences(config.sample_size + CALIBRATION_SIZE)[config.sample_size:]
        write_calibration(folder, [tokenizer(t, truncation=True, max_length=settings["max_seq_len"]) for t in texts])
    info = _info(checkpoint, task, labels, settings, validation)
    write_info(folder, info)
    report = {"task": task.name, "teacher": None, "student_layers": None, "layer_map": None,
              "imported": {**info["imported"], "source": checkpoint.source}, "models": []}
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return Student(folder, model, info, labels, int(settings["max_seq_len"]), task)


def import_checkpoint(config: ImportConfig) -> tuple[Manifest, Decision]:
    """Check the checkpoint, export it and write the model folder; returns its manifest and what was
    done (with `if_changed`, KEEP: the folder already held this import and was left as it was)."""
    target = Path(config.output_dir)
    if not config.if_changed:
        _refuse_existing(target, config.overwrite)
    checkpoint = _inspect(config.model, target, config.if_changed)
    decision = Decision.KEEP if checkpoint is None else decide(target, checkpoint.source) if config.if_changed \
        else Decision.IMPORT
    if decision is Decision.KEEP:
        return read_manifest(target), decision
    checkpoint.check_length(config.max_seq_len)
    overwrite = config.overwrite or decision is Decision.REPLACE
    with tempfile.TemporaryDirectory(prefix="distill-import-") as temporary:
        student = _student(config, checkpoint, Path(temporary) / "checkpoint")
        export = ExportConfig(student_dir=student.folder, output_dir=target, name=config.name,
                              variants=config.variants, report_dir=student.folder, latency=config.latency,
                              threads=config.threads, overwrite=overwrite, settings=config.settings)
        return export_model_folder(export, load=lambda _folder: student), decision


def _inspect(model: str, target: Path, if_changed: bool) -> Checkpoint | None:
    """The checkpoint; with `if_changed`, None for a hub id that cannot be reached while `target`
    holds an import of that id (kept, with a warning) rather than an error."""
    try:
        return inspect_checkpoint(model)
    except CheckpointError:
        found = existing_source(target) if if_changed else None
        if not found or found.get("kind") != "hub" or found.get("id") != model:
            raise
        warnings.warn(f"{model}: the hub cannot be reached; keeping the import of revision "
                      f"{found.get('revision')} in {target}", stacklevel=2)
        return None
