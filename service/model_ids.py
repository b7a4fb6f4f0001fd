"""`serve --model-id ID[=NAME]`: checkpoints that are not model folders yet (a Hugging Face hub id, a
save_pretrained or sentence-transformers directory, the built-in `minilm`), imported into the model
repository before the models load.

Each is imported by `distill import --if-changed` in a child process (its progress printed as it
goes): the first start imports, a later one keeps the folder while the source is unchanged and
imports again when it changed. The import lives in the `distill` package, whose PyTorch and
transformers the service does not otherwise need; a server installed without it refuses
--model-id with one message.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from modelfolder.manifest import ModelFolderError, read_manifest
from service.tasks.registry import TASKS
from service.tasks.text.task import SENTIMENT

SENTIMENT_LABELS = {"negative", "positive"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
ImportRunner = Callable[[list[str]], int]  # argv -> exit status


class ModelIdError(ValueError):
    """A --model-id that cannot be imported; the message names it."""


@dataclass(frozen=True)
class ModelId:
    source: str  # hub id, checkpoint directory or built-in name
    name: str  # the model folder (and the name requests use)


def default_name(source: str) -> str:
    """The last part of a hub id or path ("org/model" -> "model"), with characters a model name may
    not hold replaced by "-"."""
    last = Path(source.rstrip("/\\")).name or source
    return re.sub(r"[^A-Za-z0-9._-]", "-", last).lstrip("._-") or "model"


def parse_model_ids(values: list[str]) -> list[ModelId]:
    """`ID` or `ID=NAME` each; two with one name, or a name that is not a folder name, are refused."""
    parsed: list[ModelId] = []
    for value in values:
        source, _, name = value.partition("=")
        source, name = source.strip(), name.strip() or default_name(source.strip())
        if not source:
            raise ModelIdError(f"--model-id {value!r}: no checkpoint before '='")
        if not NAME.fullmatch(name):
            raise ModelIdError(f"--model-id {value!r}: {name!r} is not a model name (letters, digits, '.', '_', '-')")
        taken = next((m for m in parsed if m.name == name), None)
        if taken is not None:
            raise ModelIdError(f"--model-id {taken.source} and {source} both name the model {name!r}; "
                               f"give one another name with {source}=NAME")
        parsed.append(ModelId(source, name))
    return parsed


def import_command(model_id: ModelId, repository: Path) -> list[str]:
    return [sys.executable, "-m", "distill.cli", "import", "--model", model_id.source,
            "--output-dir", str(Path(repository) / model_id.name), "--if-changed"]


def _run(argv: list[str]) -> int:
    return subprocess.run(argv, check=False).returncode


def import_model_ids(model_ids: list[ModelId], repository: Path, runner: ImportRunner | None = None) -> None:
    """Import (or keep) each checkpoint into `repository`, one after the other; the first failure
    stops with ModelIdError (that import's own message is printed above it)."""
    if not model_ids:
        return
    if importlib.util.find_spec("distill") is None:
        raise ModelIdError("--model-id needs the distill package (PyTorch, transformers): install the project "
                           "with its distill extra, or import with `distill import` elsewhere and serve the folder")
    Path(repository).mkdir(parents=True, exist_ok=True)
    for model_id in model_ids:
        print(f"serve: importing {model_id.source} as {model_id.name!r} into {repository}", file=sys.stderr, flush=True)
        status = (runner or _run)(import_command(model_id, repository))
        if status != 0:
            raise ModelIdError(f"--model-id {model_id.source}: the import failed (exit status {status}; "
                               "its message is above)")


def sentiment_model(model_ids: list[ModelId], repository: Path) -> str | None:
    """The one imported classifier whose labels read as negative and positive (any case), which
    then answers /v1/sentiment when the repository has no model of the configured sentiment name;
    None when there is none, or more than one."""
    found = []
    for model_id in model_ids:
        try:
            manifest = read_manifest(Path(repository) / model_id.name)
        except ModelFolderError:
            continue
        task = TASKS.get(manifest.task)
        serves_sentiment = task is not None and SENTIMENT in task.endpoints
        if serves_sentiment and SENTIMENT_LABELS <= {label.lower() for label in manifest.labels}:
            found.append(model_id.name)
    return found[0] if len(found) == 1 else None
