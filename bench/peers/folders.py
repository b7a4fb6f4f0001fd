"""The model folder under test, and the copies of it the peers read: a Hugging Face-style folder
(config.json, tokenizer files, the ONNX file) for infinity, the PyTorch student for its torch engine."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAYER_NAME = re.compile(r"transformer[./]layer[./](\d+)[./]")  # initializer and node names of a layer


@dataclass(frozen=True)
class ModelFolder:
    """The folder under test and the ONNX file this service serves from it on CPU."""

    path: Path
    manifest: Any  # modelfolder.manifest.Manifest
    variant: str
    file: str
    precision: str


def served_variant(folder: Path, preference: str) -> ModelFolder:
    """Read the manifest and pick the variant as `python -m service --variant <preference>` on CPU."""
    from modelfolder.manifest import CLASSIFICATION, ModelFolderError, read_manifest
    from service.providers import CPU
    from service.runtime.build import choose_variant

    try:
        manifest = read_manifest(folder)
        variant = choose_variant(manifest, preference, CPU, folder)
    except ModelFolderError as exc:
        raise SystemExit(f"model folder: {exc}") from exc
    if manifest.task != CLASSIFICATION:
        raise SystemExit(f"{folder}: task {manifest.task!r}; this benchmark needs a text-classification folder")
    chosen = manifest.variants[variant]
    if not (folder / chosen.file).is_file():
        raise SystemExit(f"{folder}: the {chosen.precision} file {chosen.file} named in manifest.json is missing")
    if not (folder / manifest.tokenizer).is_file():
        raise SystemExit(f"{folder}: tokenizer file {manifest.tokenizer} is missing")
    if chosen.precision != "int8":
        print(f"note: the service serves {chosen.file} ({chosen.precision}) here, not an INT8 file", flush=True)
    return ModelFolder(folder, manifest, variant, chosen.file, chosen.precision)


def graph_dims(onnx_path: Path) -> dict[str, int]:
    """DistilBERT sizes read off the ONNX graph (embedding tables, attention nodes), for config.json."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    dims: dict[str, int] = {}
    for tensor in graph.initializer:
        name = tensor.name.removesuffix("_quantized")
        if name.endswith("word_embeddings.weight") and len(tensor.dims) == 2:
            dims["vocab_size"], dims["dim"] = int(tensor.dims[0]), int(tensor.dims[1])
        elif name.endswith("position_embeddings.weight") and len(tensor.dims) == 2:
            dims["max_position_embeddings"] = int(tensor.dims[0])
    heads = [a.i for n in graph.node if "Attention" in n.op_type for a in n.attribute if a.name == "num_heads"]
    if heads:  # fused graph: one attention node per layer
        dims["n_heads"], dims["n_layers"] = int(heads[0]), len(heads)
    else:
        names = [t.name for t in graph.initializer] + [n.name for n in graph.node]
        layers = {m.group(1) for name in names for m in [LAYER_NAME.search(name)] if m}
        if layers:
            dims["n_layers"] = len(layers)
    return dims


def special_tokens(tokenizer_json: Path) -> dict[str, str]:
    """tokenizer_config.json's special-token fields from the BERT-style tokens tokenizer.json has."""
    roles = {"[PAD]": "pad_token", "[UNK]": "unk_token", "[CLS]": "cls_token", "[SEP]": "sep_token",
             "[MASK]": "mask_token"}
    added = json.loads(tokenizer_json.read_text()).get("added_tokens", [])
    return {roles[t["content"]]: t["content"] for t in added if t.get("special") and t["content"] in roles}


def write_tokenizer_files(target: Path, tokenizer_json: Path, max_seq_len: int) -> None:
    """tokenizer.json plus a tokenizer_config.json that transformers 4.x reads as a fast tokenizer
    giving input_ids and attention_mask only (the graph has no token_type_ids)."""
    shutil.copyfile(tokenizer_json, target / "tokenizer.json")
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_seq_len,
              "model_input_names": ["input_ids", "attention_mask"], **special_tokens(tokenizer_json)}
    (target / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")


def hf_config(model: ModelFolder) -> dict[str, Any]:
    """config.json for a folder without one: labels from the manifest, sizes from the graph."""
    labels = list(model.manifest.labels)
    return {
        "architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert",
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
        **graph_dims(model.path / model.file),
        "_distilserve_note": f"written by bench/peers.py from {model.path}/manifest.json and {model.file}",
    }


def infinity_folder(cache: Path, model: ModelFolder) -> Path:
    """A Hugging Face-style copy of the model folder for infinity's optimum engine: config.json,
    tokenizer files and the ONNX file alone (infinity picks the only .onnx file it finds; the name
    `model_quantized.onnx` is the one it would prefer on CPU among several)."""
    sha = model.manifest.variants[model.variant].sha256[:12]
    target = cache / "folders" / f"{model.path.name}-{model.variant}-{sha}"
    onnx_name = "model_quantized.onnx" if model.precision == "int8" else "model.onnx"
    if (target / onnx_name).exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    own_config = model.path / "config.json"
    config = json.loads(own_config.read_text()) if own_config.is_file() else hf_config(model)
    (partial / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_tokenizer_files(partial, model.path / model.manifest.tokenizer, model.manifest.max_seq_len)
    shutil.copyfile(model.path / model.file, partial / onnx_name)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def torch_student_folder(cache: Path, student: Path, model: ModelFolder) -> Path:
    """The PyTorch student's weights with a config.json naming the labels as the manifest does and
    a tokenizer_config.json that infinity's transformers reads (config.json, written last, marks
    a finished copy)."""
    weights = sorted(p for p in student.iterdir() if p.suffix in (".safetensors", ".bin"))
    if not weights or not (student / "tokenizer.json").is_file():
        raise RuntimeError(f"{student}: needs model.safetensors (or .bin) and tokenizer.json")
    key = hashlib.sha1(f"{student.resolve()}:{weights[0].stat().st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache / "folders" / f"torch-{student.resolve().name}-{key}"
    if (target / "config.json").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for item in weights:
        shutil.copyfile(item, target / item.name)
    write_tokenizer_files(target, student / "tokenizer.json", model.manifest.max_seq_len)
    config = json.loads((student / "config.json").read_text())
    labels = list(model.manifest.labels)
    if len(config.get("id2label", {})) == len(labels):
        config["id2label"] = {str(i): label for i, label in enumerate(labels)}
        config["label2id"] = {label: i for i, label in enumerate(labels)}
    (target / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return target


def build_tiny(root: Path) -> tuple[Path, Path]:
    """A tiny random classifier folder (INT8 = an fp32 copy) and its PyTorch checkpoint, for a dry
    run. Unlike bench/load.py's, its graph takes 512 positions: infinity's pipeline does not
    truncate, so a longer sentence than the graph takes would wedge it."""
    import warnings

    from tests.service.model_folders import SENTIMENT_LABELS, build_classifier_folder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = build_classifier_folder(root / "models" / "sentiment", SENTIMENT_LABELS, max_seq_len=128,
                                         with_int8_copy=True, checkpoint_dir=root / "student", positions=512)
    return folder, root / "student"
