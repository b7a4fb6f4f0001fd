"""Every way modelfolder.manifest refuses a damaged model folder, with the message naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelfolder.manifest import ModelFolderError, discover_model_folders, load_model_folder


def _edit_manifest(folder: Path, **changes) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def _missing_manifest(folder: Path) -> str:
    (folder / "manifest.json").unlink()
    return "manifest.json: missing manifest file"


def _missing_tokenizer(folder: Path) -> str:
    (folder / "tokenizer.json").unlink()
    return "tokenizer.json: missing tokenizer file"


def _missing_variant(folder: Path) -> str:
    (folder / "model.int8.onnx").unlink()
    return "model.int8.onnx: missing variant 'int8' file"


def _wrong_checksum(folder: Path) -> str:
    with open(folder / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    return "model.onnx: wrong checksum for variant 'fp32'"


def _tokenizer_changed(folder: Path) -> str:
    path = folder / "tokenizer.json"
    path.write_text(path.read_text().replace("wonderful", "wondrous"))
    return "tokenizer.json: wrong checksum for tokenizer"


def _unknown_schema(folder: Path) -> str:
    _edit_manifest(folder, schema_version=99)
    return "manifest.json: unknown schema_version 99"


def _unknown_task(folder: Path) -> str:
    _edit_manifest(folder, task="translation")
    return "manifest.json: unknown task 'translation'"


def _bad_json(folder: Path) -> str:
    (folder / "manifest.json").write_text('{"schema_version": 1, "task": ')
    return "manifest.json: not valid JSON"


def _wrong_outputs(folder: Path) -> str:
    _edit_manifest(folder, outputs=["start_logits", "end_logits"])
    return "manifest.json: outputs ['start_logits', 'end_logits'] do not match task"


def _no_variants(folder: Path) -> str:
    _edit_manifest(folder, variants={})
    return "manifest.json: lists no ONNX variants"


def _invalid_field(folder: Path) -> str:
    _edit_manifest(folder, max_seq_len=0)
    return "manifest.json: invalid manifest"


DAMAGE = [_missing_manifest, _missing_tokenizer, _missing_variant, _wrong_checksum,
          _tokenizer_changed, _unknown_schema, _unknown_task, _bad_json, _wrong_outputs,
          _no_variants, _invalid_field]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__.strip("_") for d in DAMAGE])
def test_loader_names_the_file(folder_copy: Path, damage):
    load_model_folder(folder_copy)  # intact before the damage
    expected = damage(folder_copy)
    with pytest.raises(ModelFolderError) as info:
        load_model_folder(folder_copy)
    message = str(info.value)
    assert str(folder_copy) in message
    assert expected in message


def test_checksums_can_be_skipped(folder_copy: Path):
    _wrong_checksum(folder_copy)
    assert load_model_folder(folder_copy, verify_checksums=False).name == "sentiment"


def test_not_a_directory(tmp_path: Path):
    with pytest.raises(ModelFolderError, match="not a directory"):
        load_model_folder(tmp_path / "absent")


def test_discovery_finds_the_exported_folder(exported: Path):
    assert discover_model_folders(exported.parent) == [exported]
