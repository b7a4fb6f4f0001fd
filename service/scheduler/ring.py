"""A one-way byte ring in shared memory: one process writes frames, one other process reads them.

The writer keeps the head (how far it has written) to itself and tells the reader about it in a
doorbell message over the link's socket (`service.scheduler.connection`): the socket's write and read
order the memory, so a frame is complete before the reader learns of it. The reader publishes its
tail (how far it has read) in the ring's header; the writer reads it only to know how much room is
left, so a late value only makes the ring look fuller than it is. Positions count bytes from the
start and never wrap; the place in the buffer is the position modulo the capacity.

A frame is a 4-byte little-endian length and that many bytes. A frame that would cross the end of
the buffer starts at the beginning instead; the writer marks the skipped end with `WRAP` (when 4
bytes are left for the mark) and the reader skips it the same way.
"""

from __future__ import annotations

import struct
from multiprocessing import shared_memory
from pathlib import Path

HEADER = 64  # bytes before the data: the reader's tail (8 bytes), the rest left free
WRAP = 0xFFFFFFFF
_LENGTH = struct.Struct("<I")
_TAIL = struct.Struct("<Q")


class RingFull(Exception):
    """The frame does not fit in the room the reader has left."""


def _untrack(shm: shared_memory.SharedMemory) -> None:
    """Python < 3.13 registers every segment it creates or opens with a resource tracker, which
    unlinks it when a process ends; here the supervisor removes the rings (`remove_rings`)."""
    try:
        from multiprocessing import resource_tracker

        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - bookkeeping only: at worst a warning at exit
        pass


def create(capacity: int, name: str) -> shared_memory.SharedMemory:
    """A new zeroed ring of `capacity` data bytes; its creator unlinks it when done with it."""
    shm = shared_memory.SharedMemory(name=name, create=True, size=HEADER + capacity)
    _untrack(shm)
    shm.buf[:HEADER] = bytes(HEADER)
    return shm


def attach(name: str) -> shared_memory.SharedMemory:
    """Open a ring another process created (which unlinks it)."""
    shm = shared_memory.SharedMemory(name=name)
    _untrack(shm)
    return shm


def destroy(shm: shared_memory.SharedMemory) -> None:
    """Close and unlink a ring this process created (without the tracker it was taken from)."""
    import _posixshmem

    shm.close()
    try:
        _posixshmem.shm_unlink(shm._name)  # type: ignore[attr-defined]
    except FileNotFoundError:
        pass


def remove_rings(prefix: str, folder: Path = Path("/dev/shm")) -> int:
    """Unlink every ring whose name starts with `prefix` (those of a model process that died
    before it could); returns how many there were."""
    removed = 0
    for path in folder.glob(f"{prefix}*") if folder.is_dir() else []:
        path.unlink(missing_ok=True)
        removed += 1
    return removed


class RingWriter:
    def __init__(self, shm: shared_memory.SharedMemory) -> None:
        self._buf = shm.buf
        self.capacity = len(shm.buf) - HEADER
        self.head = 0

    def room(self) -> int:
        (tail,) = _TAIL.unpack_from(self._buf, 0)
        return self.capacity - (self.head - tail)

    def put(self, payload: bytes | bytearray | memoryview) -> None:
        """Append one frame; RingFull when it does not fit now."""
        size = _LENGTH.size + len(payload)
        offset = self.head % self.capacity
        to_end = self.capacity - offset
        needed = size if size <= to_end else to_end + size
        if size > self.capacity or needed > self.room():
            raise RingFull(f"a frame of {size} bytes does not fit ({self.room()} of {self.capacity} free)")
        if size > to_end:
            if to_end >= _LENGTH.size:
                _LENGTH.pack_into(self._buf, HEADER + offset, WRAP)
            self.head += to_end
            offset = 0
        start = HEADER + offset
        _LENGTH.pack_into(self._buf, start, len(payload))
        self._buf[start + _LENGTH.size: start + size] = payload
        self.head += size

    def release(self) -> None:
        self._buf = None  # type: ignore[assignment]


class RingReader:
    def __init__(self, shm: shared_memory.SharedMemory) -> None:
        self._buf = shm.buf
        self.capacity = len(shm.buf) - HEADER
        self.tail = 0

    def take(self, head: int) -> list[bytes]:
        """Every frame up to `head` (copied out), then the room they took is given back."""
        frames = []
        buf, capacity, tail = self._buf, self.capacity, self.tail
        while tail < head:
            offset = tail % capacity
            to_end = capacity - offset
            if to_end < _LENGTH.size:
                tail += to_end
                continue
            (size,) = _LENGTH.unpack_from(buf, HEADER + offset)
            if size == WRAP:
                tail += to_end
                continue
            start = HEADER + offset + _LENGTH.size
            frames.append(bytes(buf[start: start + size]))
            tail += _LENGTH.size + size
        self.tail = tail
        _TAIL.pack_into(buf, 0, tail)
        return frames

    def release(self) -> None:
        self._buf = None  # type: ignore[assignment]
