"""Tiny, honest model folders for the service tests (and for a dry run of bench/load.py).

A random 2-layer DistilBERT classifier (dim 32) is exported to ONNX with torch.onnx and written
with its tokenizer.json and a manifest from `service.manifest`. Built in about a second; nothing
is downloaded. Uses torch and transformers, which the service itself never imports.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from service.manifest import (
    SCHEMA_VERSION, TASK_OUTPUTS, Manifest, Variant, VariantValidation, sha256_file, write_manifest,
)
from tests.tiny import write_tokenizer

SENTIMENT_LABELS = ["negative", "positive"]
TOPIC_LABELS = ["world", "sports", "business"]


def _export_onnx(model, path: Path, vocab_size: int) -> None:
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    wrapper = LogitsOnly(model).eval()
    ids = torch.randint(5, vocab_size, (2, 8), dtype=torch.long)
    mask = torch.ones_like(ids)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            wrapper, (ids, mask), str(path), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
        )


def _variant(folder: Path, file: str, precision: str, note: str, recommended: bool = True) -> Variant:
    path = folder / file
    return Variant(
        file=file, precision=precision, sha256=sha256_file(path), size_bytes=path.stat().st_size,
        providers=["CPUExecutionProvider"], recommended=recommended,
        validation=VariantValidation(status="unvalidated", note=note),
    )


def build_classifier_folder(
    folder: Path, labels: list[str], seed: int = 0, max_seq_len: int = 32, with_int8_copy: bool = False,
    checkpoint_dir: Path | None = None,
) -> Path:
    """Write a tiny text-classification model folder; returns the folder. With `checkpoint_dir`,
    the PyTorch model and tokenizer are also saved there (a stand-in teacher for benchmarks)."""
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    folder = Path(folder)
    tokenizer = write_tokenizer(folder)
    torch.manual_seed(seed)
    vocab_size = max(tokenizer.get_vocab().values()) + 1  # every id the tokenizer can produce
    config = DistilBertConfig(
        vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
        max_position_embeddings=64, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)},
    )
    model = DistilBertForSequenceClassification(config).eval()
    _export_onnx(model, folder / "model.onnx", vocab_size)
    if checkpoint_dir is not None:
        model.save_pretrained(str(checkpoint_dir))
        tokenizer.save_pretrained(str(checkpoint_dir))
    variants = {"fp32": _variant(folder, "model.onnx", "fp32", "random tiny test model")}
    if with_int8_copy:
        shutil.copyfile(folder / "model.onnx", folder / "model.int8.onnx")
        variants["int8"] = _variant(
            folder, "model.int8.onnx", "int8", "fp32 copy standing in for int8 (tests variant choice)"
        )
    manifest = Manifest(
        schema_version=SCHEMA_VERSION, name=folder.name, task="text-classification", labels=labels,
        max_seq_len=max_seq_len, outputs=TASK_OUTPUTS["text-classification"],
        tokenizer_sha256=sha256_file(folder / "tokenizer.json"), variants=variants,
        teacher="random tiny DistilBERT", student_layers=2,
    )
    write_manifest(folder, manifest)
    return folder


def build_repository(root: Path) -> Path:
    """A model repository with `sentiment` (2 labels, fp32 + int8 copy) and `topic` (3 labels)."""
    root = Path(root)
    build_classifier_folder(root / "sentiment", SENTIMENT_LABELS, seed=0, with_int8_copy=True)
    build_classifier_folder(root / "topic", TOPIC_LABELS, seed=1)
    return root


def break_checksum(folder: Path) -> Path:
    """Make a folder's manifest disagree with its ONNX file (a corrupt download, say)."""
    path = Path(folder) / "manifest.json"
    raw = json.loads(path.read_text())
    raw["variants"]["fp32"]["sha256"] = "0" * 64
    path.write_text(json.dumps(raw))
    return Path(folder)
