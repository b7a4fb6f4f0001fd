"""What `distill import` refuses, each with a message naming the file, folder or id and nothing
written into the repository; what it keeps, replaces and re-imports with --if-changed; and the
checkpoint layouts users have (sharded safetensors, pytorch_model.bin, a regression head)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from distill.importer.checkpoint import CheckpointError
from distill.importer.import_checkpoint import ImportConfig, import_checkpoint
from distill.importer.reuse import Decision
from modelfolder.manifest import REGRESSION, read_manifest
from tests.distill.importer.checkpoints import write_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return write_checkpoint(tmp_path_factory.mktemp("ckpt") / "bert", "bert", "classification")


def copy_of(checkpoint: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(checkpoint, tmp_path / "copy"))


def imported(model: Path | str, target: Path, **options) -> tuple:
    config = ImportConfig(str(model), target, variants=("fp32",), latency=None, sample_size=16, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return import_checkpoint(config)


def nothing_written(repository: Path) -> bool:
    return not repository.exists() or not any(repository.iterdir())


def test_a_folder_without_a_tokenizer_is_refused(checkpoint, tmp_path):
    folder = copy_of(checkpoint, tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match=f"{folder}: no usable tokenizer"):
        imported(folder, tmp_path / "models" / "m")
    assert nothing_written(tmp_path / "models")


@pytest.mark.parametrize("change, message", [
    ({"model_type": "gpt2"}, "model_type 'gpt2' is not supported \\(supported: bert, distilbert, roberta"),
    ({"architectures": ["BertForMultipleChoice"]}, "'BertForMultipleChoice' has no supported head"),
])
def test_an_architecture_outside_the_list_is_refused_with_the_supported_ones(checkpoint, tmp_path, change, message):
    folder = copy_of(checkpoint, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(CheckpointError, match=message):
        imported(folder, tmp_path / "models" / "m")
    assert nothing_written(tmp_path / "models")


def test_a_length_beyond_the_position_embeddings_is_refused(checkpoint, tmp_path):
    with pytest.raises(CheckpointError, match="config.json: max_position_embeddings 512 allows at most 512 tokens; "
                                              "--max-seq-len 600"):
        imported(checkpoint, tmp_path / "models" / "m", max_seq_len=600)
    assert nothing_written(tmp_path / "models")


def test_a_truncated_weights_file_is_named_and_nothing_is_left(checkpoint, tmp_path):
    folder = copy_of(checkpoint, tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=f"{weights}: cannot be loaded"):
        imported(folder, tmp_path / "models" / "m")
    assert nothing_written(tmp_path / "models")


def test_a_hub_id_that_cannot_be_downloaded_names_the_id_and_the_local_way(tmp_path):
    with pytest.raises(CheckpointError, match="cannot download 'no-such-org/no-such-model-x7' .*local directory"):
        imported("no-such-org/no-such-model-x7", tmp_path / "models" / "m")
    assert nothing_written(tmp_path / "models")


def test_if_changed_keeps_an_unchanged_import_and_imports_a_changed_one_again(checkpoint, tmp_path):
    folder, target = copy_of(checkpoint, tmp_path), tmp_path / "models" / "m"
    first, decision = imported(folder, target, if_changed=True)
    assert decision is Decision.IMPORT and first.source["weights_sha256"]
    stamp = (target / "manifest.json").stat().st_mtime_ns
    kept, decision = imported(folder, target, if_changed=True)
    assert decision is Decision.KEEP and (target / "manifest.json").stat().st_mtime_ns == stamp
    write_checkpoint(folder, "bert", "classification", seed=1)  # other weights, same directory
    again, decision = imported(folder, target, if_changed=True)
    assert decision is Decision.REPLACE
    assert again.source["weights_sha256"] != first.source["weights_sha256"]
    assert read_manifest(target).source == again.source


def test_if_changed_does_not_replace_a_folder_that_holds_something_else(checkpoint, tmp_path):
    target = tmp_path / "models" / "m"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds no imported model"):
        imported(checkpoint, target, if_changed=True)
    assert (target / "notes.txt").read_text() == "mine"


def predictions(folder: Path, texts: list[str]) -> np.ndarray:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    rows = []
    for text in texts:
        ids = np.asarray([tokenizer.encode(text).ids], dtype=np.int64)
        rows.append(session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0])
    return np.asarray(rows)


@pytest.mark.parametrize("layout", ["sharded", "bin"])
def test_sharded_and_pickled_checkpoints_import_as_the_same_model(checkpoint, tmp_path, layout):
    import torch
    from transformers import AutoModelForSequenceClassification

    folder = tmp_path / layout
    shutil.copytree(checkpoint, folder)
    (folder / "model.safetensors").unlink()
    model = AutoModelForSequenceClassification.from_pretrained(str(checkpoint))
    if layout == "sharded":
        model.save_pretrained(str(folder), max_shard_size="40KB")
        assert len(list(folder.glob("model-*.safetensors"))) > 1
    else:
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    imported(folder, tmp_path / "models" / layout)
    imported(checkpoint, tmp_path / "models" / "single")
    texts = ["a wonderful film", "the plot is thin and the acting bad"]
    assert np.allclose(predictions(tmp_path / "models" / layout, texts),
                       predictions(tmp_path / "models" / "single", texts), atol=1e-6)


def test_a_head_with_one_output_is_regression_and_labelled_rows_check_it(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = write_checkpoint(tmp_path / "scorer", "bert", "regression")
    rows = tmp_path / "scored.jsonl"
    rows.write_text("".join(json.dumps({"text": t, "label": s}) + "\n"
                            for t, s in [("a fine film", 4.0), ("a dull film", 1.0), ("fine and dull", 2.5)]))
    manifest, _ = imported(folder, tmp_path / "models" / "scorer", validation_data=rows)
    assert manifest.task == REGRESSION
    report = json.loads((tmp_path / "models" / "scorer" / "report.json").read_text())
    assert report["imported"]["validation"] == str(rows)
    assert any("imported from" in note for note in report["export"]["notes"])
    markdown = (tmp_path / "models" / "scorer" / "report.md").read_text()
    assert markdown.startswith("# Import report") and f"imported from: {folder} (bert, BertForSequenceClassification)" in markdown
    assert "retention" not in markdown
