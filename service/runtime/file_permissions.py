"""Start-up check that the model repository is readable by the user the service runs as.

A container runs `serve` as its own user (uid 10001 in the image) over a repository mounted from
the host; files that user cannot read would otherwise surface as a PermissionError traceback from
deep inside model loading. `check_readable` finds the first such path and says, in one line, which
file, which uid and what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

from modelfolder.manifest import ModelFolderError


class UnreadableModelFile(ModelFolderError):
    """A folder or file of the model repository that this process may not read."""


def first_unreadable(repository: Path, models: list[str] | None = None) -> Path | None:
    """The first path of the repository (itself, the model folders, their files) this process
    cannot read, or None. `models`: the folders to check, default every visible sub-folder;
    folders that do not exist are left to the loader to report."""
    repository = Path(repository)
    if not repository.is_dir():
        return None  # the loader says that it does not exist
    if not _can_list(repository):
        return repository
    if models is None:
        folders = sorted(p for p in repository.iterdir() if not p.name.startswith(".") and p.is_dir())
    else:
        folders = [repository / name for name in models if (repository / name).is_dir()]
    for folder in folders:
        if not _can_list(folder):
            return folder
        for path in sorted(folder.iterdir()):
            if path.is_dir() and not _can_list(path):
                return path
            if path.is_file() and not os.access(path, os.R_OK):
                return path
    return None


def _can_list(folder: Path) -> bool:
    return os.access(folder, os.R_OK | os.X_OK)


def check_readable(repository: Path, models: list[str] | None = None) -> None:
    """Raise UnreadableModelFile naming the first unreadable path, the uid and the fix."""
    path = first_unreadable(repository, models)
    if path is None:
        return
    uid, gid = os.getuid(), os.getgid()
    raise UnreadableModelFile(
        f"{path}: not readable by uid {uid} (gid {gid}), the user serve runs as; make the model "
        f"repository readable to it, e.g. `chmod -R a+rX <repository>` on the host (folders 0755, "
        f"files 0644), or run the container with --user set to the files' owner"
    )
