"""The model-folder contract shared by `distill` (writer) and `service` (reader).

A model folder holds ONNX variants, a `tokenizer.json` and a `manifest.json` that describes them.
This module is the single place that defines the manifest's schema, writes it, and loads and
checks a folder. It imports neither torch nor transformers.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = 1
MANIFEST_FILE = "manifest.json"
TOKENIZER_FILE = "tokenizer.json"

# The task names of the contract; `distill.tasks` has one implementation per name.
CLASSIFICATION = "text-classification"
QUESTION_ANSWERING = "question-answering"
REGRESSION = "regression"  # one score per text or text pair (STS-B similarity)
TOKEN_CLASSIFICATION = "token-classification"  # one tag per word (named entities)
FEATURE_EXTRACTION = "feature-extraction"  # one sentence embedding per text
Task = Literal["text-classification", "question-answering", "regression", "token-classification",
               "feature-extraction"]
TASKS: tuple[str, ...] = (CLASSIFICATION, QUESTION_ANSWERING, REGRESSION, TOKEN_CLASSIFICATION, FEATURE_EXTRACTION)
Precision = Literal["fp32", "int8", "fp16"]
ValidationStatus = Literal["passed", "failed", "unvalidated"]

# Output names per task, in the order the ONNX graph returns them.
TASK_OUTPUTS: dict[str, list[str]] = {
    CLASSIFICATION: ["logits"],
    QUESTION_ANSWERING: ["start_logits", "end_logits"],
    REGRESSION: ["logits"],  # [batch, 1]: the score itself
    TOKEN_CLASSIFICATION: ["logits"],  # [batch, seq, labels]: one row of tag scores per token
    FEATURE_EXTRACTION: ["embedding"],  # [batch, dim]: pooled (and normalised) inside the graph
}


class ModelFolderError(Exception):
    """A model folder cannot be used. The message names the folder or file and the problem."""


class VariantValidation(BaseModel):
    """What the export measured for one variant against the PyTorch reference."""

    model_config = ConfigDict(extra="allow")

    status: ValidationStatus
    max_abs_diff: float | None = None  # largest |onnx - torch| over the compared outputs
    label_agreement: float | None = None  # share of examples with the same predicted label
    accuracy: float | None = None  # task metric on the validation split, when measured
    examples: int | None = None  # how many validation examples were compared
    note: str | None = None


class BatchInvarianceRecord(BaseModel):
    """The export's alone-vs-batched check of one variant (`modelfolder.batch_invariance`)."""

    model_config = ConfigDict(extra="allow")

    status: Literal["passed", "failed"]
    max_abs_diff: float  # largest |batched - alone| over the validation sample's outputs
    tolerance: float  # the largest difference the variant may show and still be served by default
    examples: int
    changed_decisions: int = 0
    note: str = ""


class Variant(BaseModel):
    """One ONNX file of the model."""

    model_config = ConfigDict(extra="allow")

    file: str
    precision: Precision
    sha256: str
    size_bytes: int
    providers: list[str] = Field(default_factory=list)  # execution providers it is meant for
    recommended: bool = True
    validation: VariantValidation
    fusions: dict[str, int] = Field(default_factory=dict)  # optimiser fusions that applied
    # INT8 only: scales fixed in the graph from calibration data ("static"), or taken from each
    # batch at run time ("dynamic": answers depend on the batch). None: exported before it was said.
    quantization: Literal["static", "dynamic"] | None = None
    calibration: dict[str, Any] | None = None  # static INT8: method, inputs and where they came from
    batch_invariance: BatchInvarianceRecord | None = None  # None: exported before the check existed

    @property
    def batch_dependent(self) -> bool:
        """Whether the variant's answers are known to depend on what they are batched with."""
        failed = self.batch_invariance is not None and self.batch_invariance.status == "failed"
        return failed or self.quantization == "dynamic"


class SampleFile(BaseModel):
    """The validation sample the folder carries: token-id sequences of validation inputs, which
    the service runs to check a variant the export could not validate (fp16 exported without a GPU)."""

    model_config = ConfigDict(extra="allow")

    file: str
    sha256: str
    examples: int = Field(gt=0)


class QADefaults(BaseModel):
    """Question answering: the window and span settings the model was trained and evaluated with.
    The service uses them for every request field left out."""

    model_config = ConfigDict(extra="allow")

    doc_stride: int = Field(ge=0)  # tokens shared by neighbouring windows
    max_question_len: int = Field(gt=0)  # questions are cut to this many tokens
    max_answer_len: int = Field(gt=0)  # longest answer span in tokens
    handle_impossible_answer: bool = False  # the empty answer competes (SQuAD v2 data)


class TokenClassificationDefaults(BaseModel):
    """Token classification: how the model's tags read and how long texts are windowed.
    The service uses them for every request field left out."""

    model_config = ConfigDict(extra="allow")

    label_scheme: Literal["IOB1", "IOB2"] = "IOB2"  # how the tags in `labels` mark entity starts
    doc_stride: int = Field(default=32, ge=0)  # tokens shared by neighbouring windows of a long text


class EmbeddingSettings(BaseModel):
    """Sentence embeddings: how the graph turns token states into one vector per text (the
    pooling runs inside the ONNX graph; this block says what it does)."""

    model_config = ConfigDict(extra="allow")

    dimension: int = Field(gt=0)  # length of each embedding
    pooling: Literal["mean", "cls"] = "mean"  # mean over real tokens (attention mask), or the [CLS] state
    normalize: bool = True  # L2-normalised, so a dot product is the cosine similarity


class Manifest(BaseModel):
    """The content of `manifest.json`."""

    model_config = ConfigDict(extra="allow")

    schema_version: int
    name: str
    task: Task
    labels: list[str] = Field(default_factory=list)  # logits index -> label or tag (none for regression)
    max_seq_len: int = Field(gt=0)
    inputs: list[str] = Field(default_factory=lambda: ["input_ids", "attention_mask"])
    outputs: list[str]
    tokenizer: str = TOKENIZER_FILE
    tokenizer_sha256: str | None = None
    variants: dict[str, Variant]
    teacher: str | None = None
    student_layers: int | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)  # distillation / evaluation results
    # an imported checkpoint (`distill import`): {"kind": "local", "path", "weights_sha256"} or
    # {"kind": "hub", "id", "revision"}; None for a distilled student
    source: dict[str, Any] | None = None
    qa: QADefaults | None = None  # question-answering models only
    token_classification: TokenClassificationDefaults | None = None  # token-classification models only
    embedding: EmbeddingSettings | None = None  # feature-extraction models only
    pairs: bool = False  # the model takes text pairs ([CLS] text [SEP] text_pair [SEP]), not single texts
    headline_metric: str | None = None  # the key in `metrics` (and variant validation) the model is judged by
    validation_sample: SampleFile | None = None  # inputs to check unvalidated variants on at start-up
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    package_version: str = "0.0.0"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_file(folder: Path, file: str) -> dict[str, Any]:
    """sha256 and size of a file in the folder, as the manifest records them."""
    path = folder / file
    return {"file": file, "sha256": sha256_file(path), "size_bytes": path.stat().st_size}


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = Path(folder) / MANIFEST_FILE
    path.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n")
    return path


def read_manifest(folder: Path) -> Manifest:
    """Parse `manifest.json` without checking the other files."""
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: not a directory")
    if not path.is_file():
        raise ModelFolderError(f"{path}: missing manifest file")
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFolderError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise ModelFolderError(f"{path}: expected a JSON object")
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ModelFolderError(
            f"{path}: unknown schema_version {version!r} (this version reads {SCHEMA_VERSION})"
        )
    if raw.get("task") not in TASKS:
        raise ModelFolderError(
            f"{path}: unknown task {raw.get('task')!r} (known: {', '.join(TASKS)})"
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise ModelFolderError(f"{path}: invalid manifest: {exc}") from exc


def _check_file(folder: Path, file: str, sha256: str | None, what: str) -> None:
    path = folder / file
    if not path.is_file():
        raise ModelFolderError(f"{path}: missing {what} file")
    if sha256 is not None and sha256_file(path) != sha256:
        raise ModelFolderError(f"{path}: wrong checksum for {what} (file changed or corrupt)")


def load_model_folder(folder: Path, verify_checksums: bool = True) -> Manifest:
    """Read and check a model folder: manifest, tokenizer, and every variant's file and checksum."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not manifest.variants:
        raise ModelFolderError(f"{folder / MANIFEST_FILE}: lists no ONNX variants")
    expected = TASK_OUTPUTS[manifest.task]
    if manifest.outputs != expected:
        raise ModelFolderError(
            f"{folder / MANIFEST_FILE}: outputs {manifest.outputs} do not match task "
            f"{manifest.task!r} (expected {expected})"
        )
    if manifest.task == CLASSIFICATION and len(manifest.labels) < 2:
        raise ModelFolderError(f"{folder / MANIFEST_FILE}: a classifier needs at least 2 labels")
    if manifest.task == REGRESSION and manifest.labels:
        raise ModelFolderError(f"{folder / MANIFEST_FILE}: a regressor has no labels (one score output)")
    check = verify_checksums
    _check_file(folder, manifest.tokenizer, manifest.tokenizer_sha256 if check else None, "tokenizer")
    for name, variant in manifest.variants.items():
        _check_file(folder, variant.file, variant.sha256 if check else None, f"variant {name!r}")
    sample = manifest.validation_sample
    if sample is not None:
        _check_file(folder, sample.file, sample.sha256 if check else None, "validation sample")
    return manifest


def discover_model_folders(repository: Path) -> list[Path]:
    """Sub-folders of a model repository that hold a manifest, sorted by name."""
    repository = Path(repository)
    if not repository.is_dir():
        raise ModelFolderError(f"{repository}: model repository does not exist")
    return sorted(p for p in repository.iterdir() if (p / MANIFEST_FILE).is_file())
