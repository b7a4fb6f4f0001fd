"""Loading the model folders to serve: each folder's manifest checked (`modelfolder.manifest`), its
task looked up among the serving tasks (`service.tasks.registry`; a task this version does not
serve is refused by name) and its runtime built with that task's rules (`service.runtime.build`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from modelfolder.manifest import Manifest, ModelFolderError, discover_model_folders, load_model_folder
from modelfolder.variants import VariantCheck
from service.runtime.build import build_front, build_runtime
from service.runtime.model import ModelRuntime
from service.settings import Settings
from service.tasks.base import ServingTask
from service.tasks.registry import get_task

log = logging.getLogger("service")


@dataclass
class LoadedModels:
    """What start-up loaded, and the folders it skipped (name -> problem)."""

    runtimes: dict[str, ModelRuntime]
    failed: dict[str, str] = field(default_factory=dict)


def serving_task(folder: Path, manifest: Manifest) -> ServingTask:
    """The serving task of the folder's manifest; a task this version does not serve is refused."""
    try:
        return get_task(manifest.task)
    except KeyError as exc:
        raise ModelFolderError(f"{folder}: {exc.args[0]}") from None


def load_runtime(folder: Path, settings: Settings) -> ModelRuntime:
    """Check a model folder and build its runtime; raises ModelFolderError naming the problem."""
    folder = Path(folder)
    manifest = load_model_folder(folder, verify_checksums=settings.verify_checksums)
    task = serving_task(folder, manifest)
    return build_runtime(folder, manifest, settings, task.agreement, task.segments)


def load_front(folder: Path, variant: str, provider: str, fixed_shapes: bool,
               checks: dict[str, VariantCheck]) -> ModelRuntime:
    """The runtime, without a session, of a model that runs in the model process, as an HTTP
    worker builds it from what the model process chose. The model process has checked the folder
    already (checksums included)."""
    folder = Path(folder)
    manifest = load_model_folder(folder, verify_checksums=False)
    task = serving_task(folder, manifest)
    return build_front(folder, manifest, variant, provider, fixed_shapes, checks, task.segments)


def model_folders(settings: Settings) -> list[Path]:
    """The folders to load: all of the repository, or the ones named in settings.models."""
    repository = Path(settings.model_repository)
    if settings.models is None:
        folders = discover_model_folders(repository)
        if not folders:
            raise ModelFolderError(f"{repository}: no model folders (sub-folders with manifest.json)")
        return folders
    return [repository / name for name in settings.models]


def load_models(settings: Settings) -> LoadedModels:
    """Load every model folder; a bad one raises ModelFolderError unless skip_bad_models."""
    loaded = LoadedModels(runtimes={})
    for folder in model_folders(settings):
        try:
            loaded.runtimes[folder.name] = load_runtime(folder, settings)
        except ModelFolderError as exc:
            if not settings.skip_bad_models:
                raise
            log.warning("skipping model folder %s: %s", folder, exc)
            loaded.failed[folder.name] = str(exc)
    if not loaded.runtimes:
        raise ModelFolderError(f"{settings.model_repository}: no model could be loaded")
    return loaded
