"""`distill export`: turn a student checkpoint into a model folder the service loads with ONNX
Runtime alone (no torch, no transformers model code).

Nothing is written as done until it has been checked against the PyTorch student on the real
validation split: the traced graph and the optimised graph must match the student's logits within
1e-4 with identical predicted labels (`ParityError` otherwise); INT8 accuracy is measured against
fp32; fp16 is run where CUDA exists. Everything is staged in a hidden sibling folder that is moved
into place only at the end, so a failed export leaves nothing that looks finished.

How the ONNX files are produced (and why not optimum) is explained in `distill.onnx_graph`.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from distill import package_version
from distill.latency import LatencyConfig
from distill.onnx_graph import torch_runner
from distill.onnx_inputs import (
    Batch, ValidationSet, encode, fixed_batch, load_tokenizer, make_batches, pad_token_id,
    read_validation,
)
from distill.onnx_variants import BuiltVariant, Reference, VariantSettings
from distill.parity import ParityError, collect
from distill.student_info import info_path, read_info

if TYPE_CHECKING:
    from service.manifest import Manifest

__all__ = ["ExportConfig", "ParityError", "export_model_folder"]
log = logging.getLogger(__name__)
STAGING = ".distill-export-staging"
CLASSIFICATION, QUESTION_ANSWERING = "text-classification", "question-answering"  # beside the output; one level down, so never discovered


@dataclass(frozen=True)
class ExportConfig:
    student_dir: Path
    output_dir: Path
    name: str | None = None  # model name in the manifest; default output_dir.name
    variants: tuple[str, ...] = ("fp32", "int8", "fp16")
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
    folder: Path
    model: Any
    info: dict[str, Any]
    labels: list[str]
    max_seq_len: int
    task: str


@dataclass(frozen=True)
class Inputs:
    validation: ValidationSet
    encoded: list[list[int]]
    batches: list[Batch]
    pad_id: int


def load_student(folder: Path) -> Student:
    """The student checkpoint (eager attention, eval mode) and its distill_info.json."""
    from transformers import AutoModelForQuestionAnswering, AutoModelForSequenceClassification

    folder = Path(folder)
    path = info_path(folder)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (not a student checkpoint?)")
    info = read_info(folder)
    task = info.get("task", "text-classification")
    if task not in (CLASSIFICATION, QUESTION_ANSWERING):
        raise NotImplementedError(f"{path}: exporting task {task!r} is not supported")
    # Eager attention traces to the MatMul/Softmax pattern that ONNX Runtime fuses into
    # `Attention`; the SDPA graph gets no attention fusion. Both match PyTorch in eval mode.
    if task == QUESTION_ANSWERING:
        model = AutoModelForQuestionAnswering.from_pretrained(str(folder), attn_implementation="eager").eval()
        return Student(folder, model, info, [], int(info["max_seq_len"]), task)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(folder), attn_implementation="eager"
    ).eval()
    id2label = model.config.id2label
    labels = [id2label[i] for i in range(model.config.num_labels)]
    if info.get("labels") and list(info["labels"]) != labels:
        raise ValueError(f"{path}: labels {info['labels']} differ from config {labels}")
    return Student(folder, model, info, labels, int(info["max_seq_len"]), task)


def prepare_inputs(folder: Path, student: Student, config: ExportConfig) -> Inputs:
    """Validation split tokenised with the tokenizer.json at `folder`, in mixed-length batches."""
    validation = read_validation(student.folder / "validation.jsonl", student.labels,
                                 config.max_validation_examples)
    tokenizer = load_tokenizer(folder / "tokenizer.json", student.max_seq_len)
    encoded = encode(tokenizer, validation.texts)
    pad_id = pad_token_id(tokenizer, student.model.config.pad_token_id or 0)
    batches = make_batches(encoded, config.batch_size, pad_id, config.seed)
    return Inputs(validation, encoded, batches, pad_id)


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


def _sample(inputs: Inputs) -> dict[str, np.ndarray]:
    """A tracing input with padding in it (two rows of different lengths when possible)."""
    lengths = [len(ids) for ids in inputs.encoded]
    rows = [int(np.argmax(lengths)), int(np.argmin(lengths))]
    batch = fixed_batch([inputs.encoded[i] for i in rows], 2, inputs.pad_id)
    return batch.feeds()


def reference(student: Student, inputs) -> Reference:
    """The PyTorch student's outputs on the validation batches, which every variant must match."""
    from service.manifest import TASK_OUTPUTS

    if student.task == QUESTION_ANSWERING:
        from distill.onnx_qa import qa_reference

        return qa_reference(student, inputs)
    output = TASK_OUTPUTS[student.task][0]
    outputs = collect(torch_runner(student.model, output), inputs.batches)
    return Reference(student.model, output, inputs.batches, inputs.validation.labels, outputs)


def build_variants(student: Student, inputs, folder: Path,
                   config: ExportConfig) -> dict[str, BuiltVariant]:
    from distill import onnx_variants as v

    ref = reference(student, inputs)
    cfg = student.model.config
    fp32 = v.build_fp32(ref, folder, _sample(inputs), config.opset, cfg.num_attention_heads,
                        cfg.hidden_size, config.settings, config.threads)
    built = {"fp32": fp32}
    if "int8" in config.variants:
        built["int8"] = v.build_int8(ref, fp32, config.settings, config.threads)
    if "fp16" in config.variants:
        built["fp16"] = v.build_fp16(ref, fp32, config.settings, config.threads)
    if "fp32" not in config.variants:
        fp32.path.unlink()
    return built


def make_manifest(name: str, student: Student, variants: dict[str, BuiltVariant],
                  config: ExportConfig, folder: Path) -> Manifest:
    from service.manifest import (
        SCHEMA_VERSION, TASK_OUTPUTS, TOKENIZER_FILE, Manifest, sha256_file,
    )

    info = student.info
    return Manifest.model_validate({
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "task": student.task,
        "labels": student.labels,
        "max_seq_len": student.max_seq_len,
        "inputs": ["input_ids", "attention_mask"],
        "outputs": TASK_OUTPUTS[student.task],
        "tokenizer": TOKENIZER_FILE,
        "tokenizer_sha256": sha256_file(folder / TOKENIZER_FILE),
        "variants": {n: b.manifest_entry() for n, b in variants.items() if n in config.variants},
        "teacher": info.get("teacher"),
        "student_layers": info.get("student_layers"),
        "layer_map": info.get("layer_map"),
        "metrics": info.get("metrics", {}),
        "qa": _qa_defaults(info) if student.task == QUESTION_ANSWERING else None,
        "package_version": package_version(),
    })


def _qa_defaults(info: dict) -> dict:
    """The window and span settings of a QA student's training, for the service's defaults."""
    keys = ("doc_stride", "max_question_len", "max_answer_len", "handle_impossible_answer")
    return {key: info[key] for key in keys}


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
            raise FileExistsError(f"{target}: exists and is not empty (use overwrite)")
        old = staging.with_name(f"{staging.name}.old")
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)


def export_model_folder(config: ExportConfig) -> Manifest:
    """Export, check, and write the model folder; returns its `service.manifest.Manifest`."""
    from service.manifest import load_model_folder, write_manifest

    unknown = set(config.variants) - {"fp32", "int8", "fp16"}
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)} (known: fp32, int8, fp16)")
    target = Path(config.output_dir)
    if target.exists() and any(target.iterdir()) and not config.overwrite:
        raise FileExistsError(f"{target}: exists and is not empty (use overwrite)")
    (target.parent / STAGING).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=target.parent / STAGING))
    try:
        with torch_threads(config.threads):
            student = load_student(config.student_dir)
            copy_tokenizer(student.folder, staging)
            inputs = _task_inputs(staging, student, config)
            variants = build_variants(student, inputs, staging, config)
            manifest = make_manifest(config.name or target.name, student, variants, config,
                                     staging)
            write_manifest(staging, manifest)
            log.info("measuring the chain: teacher, student, ONNX variants")
            _chain_report(student)(staging, student, inputs, variants, config)
        load_model_folder(staging)
        _move_into_place(staging, target, config.overwrite)
        log.info("wrote %s", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_if_empty(target.parent / STAGING)
    return load_model_folder(target)


def _task_inputs(staging: Path, student: Student, config: ExportConfig):
    if student.task == QUESTION_ANSWERING:
        from distill.onnx_qa import prepare_qa_inputs

        return prepare_qa_inputs(student, config)
    return prepare_inputs(staging, student, config)


def _chain_report(student: Student):
    if student.task == QUESTION_ANSWERING:
        from distill.onnx_qa import write_qa_chain_report

        return write_qa_chain_report
    from distill.onnx_chain import write_chain_report

    return write_chain_report


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # another export is staging there, or it is already gone
