"""How token states become one sentence embedding: the teacher's own pooling, as its
sentence-transformers configuration says (`modules.json` lists the modules in order; the Pooling
module's folder holds its `config.json`; a Normalize module means L2 normalisation).

A folder without that configuration (a plain BERT checkpoint) gets the sentence-transformers
default: mean over the real tokens, then L2 normalisation. Pooling modes this project cannot put
into an exported graph (max, mean-sqrt-len, several at once) are refused with a clear error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from distill.data import DataError

POOLING_MODULE = "sentence_transformers.models.Pooling"  # what this project writes (read by every version)
NORMALIZE_MODULE = "sentence_transformers.models.Normalize"
MODES = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
NAMED_MODES = {"mean": "mean", "mean_tokens": "mean", "cls": "cls", "cls_token": "cls"}  # "pooling_mode": NAME
UNSUPPORTED = ("pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
               "pooling_mode_lasttoken")


@dataclass(frozen=True)
class Pooling:
    mode: str = "mean"  # "mean": mean over real tokens (mask applied); "cls": the first token's state
    normalize: bool = True  # L2-normalise the pooled vector
    source: str = "default"  # where it was read: "sentence-transformers" (the folder's config) or "default"


def _modules(folder: Path) -> list[dict] | None:
    path = folder / "modules.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not valid JSON ({error})") from None


def _mode(config_path: Path) -> str:
    if not config_path.is_file():
        raise DataError(f"{config_path}: missing (the Pooling module of modules.json has no config)")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    named = config.get("pooling_mode")  # sentence-transformers 6 and later: one name, or a list of them
    if named is not None:
        names = [named] if isinstance(named, str) else list(named)
        chosen = [NAMED_MODES[n] for n in names if n in NAMED_MODES]
        other = [str(n) for n in names if n not in NAMED_MODES]
    else:
        chosen = [MODES[key] for key in MODES if config.get(key)]
        other = [key for key in UNSUPPORTED if config.get(key)]
    if other or len(chosen) != 1:
        raise DataError(f"{config_path}: only one of mean or cls pooling is supported, the config asks for "
                        f"{', '.join(chosen + other) or 'none'}")
    return chosen[0]


def read_pooling(folder: str | Path) -> Pooling:
    """The pooling a sentence-transformers model folder declares (the default when it declares none)."""
    folder = Path(folder)
    modules = _modules(folder)
    if modules is None:
        return Pooling()
    kinds = [_kind(module.get("type")) for module in modules]
    if "Pooling" not in kinds:
        raise DataError(f"{folder / 'modules.json'}: no {POOLING_MODULE} module; cannot tell how to pool")
    pooling = modules[kinds.index("Pooling")]
    mode = _mode(folder / pooling.get("path", "") / "config.json")
    return Pooling(mode, "Normalize" in kinds, "sentence-transformers")


def _kind(module_type: object) -> str | None:
    """A sentence-transformers module's class name, wherever the version keeps it
    ("sentence_transformers.models.Pooling", "sentence_transformers.sentence_transformer.modules.pooling.Pooling")."""
    if not isinstance(module_type, str) or not module_type.startswith("sentence_transformers."):
        return None
    return module_type.rsplit(".", 1)[-1]


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """[batch, seq, dim] token states -> [batch, dim] sentence embeddings (padding left out)."""
    if pooling.mode == "cls":
        pooled = hidden[:, 0]
    else:
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2.0, dim=-1) if pooling.normalize else pooled


def write_pooling(folder: str | Path, pooling: Pooling, dimension: int) -> None:
    """Describe `pooling` in `folder` the way sentence-transformers does (what `read_pooling` reads)."""
    folder = Path(folder)
    (folder / "1_Pooling").mkdir(parents=True, exist_ok=True)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": POOLING_MODULE}]
    if pooling.normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": NORMALIZE_MODULE})
    config = {"word_embedding_dimension": dimension, **{key: MODES[key] == pooling.mode for key in MODES},
              **{key: False for key in UNSUPPORTED}}
    (folder / "modules.json").write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
