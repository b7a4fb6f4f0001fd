"""Room for the rings in shared memory (/dev/shm), checked before the server starts.

Every HTTP worker has two rings of `ipc_buffer_mb` each. Containers often give /dev/shm only
64 MiB (Docker's default); a ring that outgrows it would crash the model process on first use
(SIGBUS), so too little room stops `serve` at once, with the fix.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from service.settings import Settings

SHM = Path("/dev/shm")


class NoRoom(Exception):
    """Too little shared memory for the rings."""


def needed_bytes(settings: Settings) -> int:
    return 2 * settings.workers * (settings.ipc_buffer_mb << 20)


def check_room(settings: Settings, shm: Path = SHM) -> None:
    if not shm.is_dir():
        return  # not Linux-like: the platform decides where shared memory lives
    free = shutil.disk_usage(shm).free
    needed = needed_bytes(settings)
    if free < needed:
        raise NoRoom(
            f"{shm} has {free >> 20} MiB free, and {settings.workers} workers need {needed >> 20} MiB "
            f"for their rings (2 x --ipc-buffer-mb {settings.ipc_buffer_mb} each): give the container "
            "more (docker/podman run --shm-size, a Kubernetes emptyDir with medium Memory on /dev/shm), "
            "or lower --ipc-buffer-mb or --workers"
        )
