"""`distill export`: turn a student checkpoint into a model folder the service loads with ONNX
Runtime alone (no torch, no transformers model code).

Nothing is written as done until it has been checked against the PyTorch student on the real
validation split: the traced graph and the optimised graph must match the student's outputs within
1e-4 with identical predictions (`ParityError` otherwise); INT8 is scored with the task's metric
against fp32; fp16 is run where CUDA exists. A seeded sample of the validation inputs (token ids,
`validation_sample.jsonl`) goes into the folder too, so that where fp16 could not be validated the
service checks it against fp32 on the GPU it runs on (`modelfolder.variants`). What differs between tasks (the validation inputs,
the reference outputs, the chain's rows, the manifest's task fields) is asked of the student's
task (`distill.tasks`); this module never looks at the task's name. Everything is staged in a hidden sibling folder that is moved
into place only at the end, so a failed export leaves nothing that looks finished.

How the ONNX files are produced (and why not optimum) is explained in `distill.export.graph`.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from distill import package_version
from distill.calibration import CALIBRATION_FILE, read_calibration
from distill.export.batch_check import check_batches
from distill.export.chain import write_chain_report
from distill.export.config import ExportConfig, Student
from distill.export.inputs import fixed_batch
from distill.export.variants import (
    VARIANTS,
    BuiltVariant,
    Calibration,
    build_fp16,
    build_fp32,
    build_int8,
    build_int8_dynamic,
)
from distill.student_info import info_path, read_info
from distill.tasks.registry import get_task

if TYPE_CHECKING:
    from modelfolder.manifest import Manifest

log = logging.getLogger(__name__)
STAGING = ".distill-export-staging"  # beside the output; one level down, so never discovered


def load_student(folder: Path) -> Student:
    """The student checkpoint (eager attention, eval mode) and its distill_info.json."""
    folder = Path(folder)
    path = info_path(folder)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (not a student checkpoint?)")
    info = read_info(folder)
    try:
        task = get_task(info.get("task"))
    except ValueError as error:
        raise NotImplementedError(f"{path}: exporting {error}") from None
    # Eager attention traces to the MatMul/Softmax pattern that ONNX Runtime fuses into
    # `Attention`; the SDPA graph gets no attention fusion. Both match PyTorch in eval mode.
    model = task.load_model(str(folder), attn_implementation="eager").eval()
    labels = task.labels_of(model, info, path)
    return Student(folder, model, info, labels, int(info["max_seq_len"]), task)


@contextmanager
def torch_threads(threads: int | None):
    import torch

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _sample(inputs: Any) -> dict[str, np.ndarray]:
    """A tracing input with padding in it (two rows of different lengths when possible)."""
    lengths = [len(ids) for ids in inputs.encoded]
    rows = [int(np.argmax(lengths)), int(np.argmin(lengths))]
    batch = fixed_batch([inputs.encoded[i] for i in rows], 2, inputs.pad_id)
    return batch.feeds()


def calibration_inputs(student: Student, inputs: Any) -> Calibration:
    """The student's training inputs (calibration.jsonl), or else the validation inputs."""
    training = read_calibration(student.folder)
    if training is not None:
        return Calibration(training, inputs.pad_id, "training")
    log.warning("%s has no calibration inputs (%s): static INT8 is calibrated on the validation inputs it is "
                "then scored on", student.folder, CALIBRATION_FILE)
    return Calibration(inputs.encoded, inputs.pad_id, "validation")


def build_variants(student: Student, inputs: Any, folder: Path, config: ExportConfig,
                   sample: list[list[int]]) -> dict[str, BuiltVariant]:
    """Every variant asked for, each validated against the student and checked alone vs batched
    on the validation `sample`."""
    ref = student.task.reference(student, inputs)
    cfg = student.model.config
    fp32 = build_fp32(ref, folder, _sample(inputs), config.opset, cfg.num_attention_heads, cfg.hidden_size,
                      config.settings, config.threads)
    built = {"fp32": fp32}
    try:
        if "int8" in config.variants:
            built["int8"] = build_int8(ref, fp32, config.settings, calibration_inputs(student, inputs), config.threads)
    finally:
        fp32.traced.unlink(missing_ok=True)
    if "int8-dynamic" in config.variants:
        built["int8-dynamic"] = build_int8_dynamic(ref, fp32, config.settings, config.threads)
    if "fp16" in config.variants:
        built["fp16"] = build_fp16(ref, fp32, config.settings, config.threads)
    check_batches(built, sample, student.task.name, ref.output_names, inputs.pad_id)
    if "fp32" not in config.variants:
        fp32.path.unlink()
    return built


def make_manifest(name: str, student: Student, variants: dict[str, BuiltVariant],
                  config: ExportConfig, folder: Path, sample: Any = None) -> Manifest:
    from modelfolder.manifest import SCHEMA_VERSION, TASK_OUTPUTS, TOKENIZER_FILE, Manifest, sha256_file

    info = student.info
    return Manifest.model_validate({
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "task": student.task.name,
        "labels": student.labels,
        "max_seq_len": student.max_seq_len,
        "inputs": ["input_ids", "attention_mask"],
        "outputs": TASK_OUTPUTS[student.task.name],
        "tokenizer": TOKENIZER_FILE,
        "tokenizer_sha256": sha256_file(folder / TOKENIZER_FILE),
        "variants": {n: b.manifest_entry() for n, b in variants.items() if n in config.variants},
        "teacher": info.get("teacher"),
        "student_layers": info.get("student_layers"),
        "layer_map": info.get("layer_map"),
        "metrics": info.get("metrics", {}),
        "source": info.get("source"),
        "validation_sample": sample,
        **student.task.manifest_fields(info),
        "package_version": package_version(),
    })


def copy_tokenizer(student_dir: Path, folder: Path) -> None:
    """Copy tokenizer.json and make sure `tokenizers` alone can load it."""
    from tokenizers import Tokenizer

    source = Path(student_dir) / "tokenizer.json"
    if not source.is_file():
        raise FileNotFoundError(f"{source}: the student has no fast tokenizer file")
    shutil.copyfile(source, folder / "tokenizer.json")
    Tokenizer.from_file(str(folder / "tokenizer.json"))


def _move_into_place(staging: Path, target: Path, overwrite: bool) -> None:
    if target.exists():
        if not overwrite and any(target.iterdir()):
            raise FileExistsError(f"{target}: exists and is not empty; pass --overwrite to replace it")
        old = staging.with_name(f"{staging.name}.old")
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)


def export_model_folder(config: ExportConfig, load: Callable[[Path], Student] = load_student) -> Manifest:
    """Export, check, and write the model folder; returns its `modelfolder.manifest.Manifest`.
    `load` gives the model to export from `config.student_dir` (a student checkpoint by default)."""
    from modelfolder.manifest import load_model_folder, write_manifest
    from modelfolder.sample import sample_sequences, write_sample

    unknown = set(config.variants) - set(VARIANTS)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)} (known: {', '.join(VARIANTS)})")
    target = Path(config.output_dir)
    if target.exists() and any(target.iterdir()) and not config.overwrite:
        raise FileExistsError(f"{target}: exists and is not empty; pass --overwrite to replace it")
    (target.parent / STAGING).mkdir(parents=True, exist_ok=True)
    staging = _make_staging(target)
    try:
        with torch_threads(config.threads):
            student = load(config.student_dir)
            copy_tokenizer(student.folder, staging)
            inputs = student.task.export_inputs(staging, student, config)
            variants = build_variants(student, inputs, staging, config,
                                      sample_sequences(inputs.encoded, seed=config.seed))
            sample = write_sample(staging, inputs.encoded, seed=config.seed)
            manifest = make_manifest(config.name or target.name, student, variants, config, staging, sample)
            write_manifest(staging, manifest)
            log.info("measuring the chain: teacher, student, ONNX variants")
            write_chain_report(staging, student, inputs, variants, config)
        load_model_folder(staging)
        _move_into_place(staging, target, config.overwrite)
        log.info("wrote %s", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(target.parent / STAGING)
    return load_model_folder(target)


def _make_staging(target: Path) -> Path:
    """A new empty folder to stage `target` in. Made with mkdir, not tempfile.mkdtemp: mkdtemp's
    mode 0700 would become the model folder's, and a service running as another user (the image's
    uid 10001) could not read it; mkdir applies the process umask like any other file."""
    staging = target.parent / STAGING / f"{target.name}-{uuid.uuid4().hex}"
    staging.mkdir()  # FileExistsError rather than sharing a folder with another export
    return staging


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):  # another export is staging there, or it is already gone
        folder.rmdir()
