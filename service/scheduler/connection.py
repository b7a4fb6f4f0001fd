"""One connection between an HTTP worker and the model process: a Unix socket and two rings, run
by the same `Link` at both ends (`worker_end` in the worker, `model_end` in the model process).

The frames go through the rings (`service.scheduler.ring`); the socket carries short messages:
a doorbell (a ring's new head) after each flush -- one per batch of frames, not per frame -- and
the rare control message (readiness, the models' descriptions). Both ends run the same `Link` on
their event loop: frames put during one turn of the loop are announced by one doorbell at its end.
The socket closing is how each side learns that the other is gone.

A message is a kind byte, a 4-byte length and the payload: `D` + the head as 8 bytes; `P` + a
pickled control object (both ends are this program, on a socket in a private folder).
"""

from __future__ import annotations

import asyncio
import pickle
import socket
import struct
from collections import deque
from typing import Any, Callable

from service.scheduler.ring import RingFull, RingReader, RingWriter

DOORBELL, CONTROL = b"D", b"P"
_HEADER = struct.Struct("<cI")
_HEAD = struct.Struct("<Q")


def pack_message(kind: bytes, payload: bytes) -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


def control_message(obj: Any) -> bytes:
    return pack_message(CONTROL, pickle.dumps(obj))


def read_message(sock: socket.socket) -> tuple[bytes, bytes]:
    """One message from a blocking socket (the hand-shake before the loop takes over)."""
    header = _recv_exactly(sock, _HEADER.size)
    kind, size = _HEADER.unpack(header)
    return kind, _recv_exactly(sock, size)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        data += chunk
    return bytes(data)


class Link:
    """Frames out through `writer`, frames in through `reader`, messages over `sock`.

    `on_frames(frames)` gets every frame of one doorbell; `on_control(obj)` each control object;
    `on_closed()` is called once when the socket ends (the other side died or closed it).
    `put` raises RingFull when the ring has no room; `put_later` keeps such frames and retries."""

    def __init__(self, sock: socket.socket, writer: RingWriter, reader: RingReader,
                 on_frames: Callable[[list[bytes]], None], on_control: Callable[[Any], None],
                 on_closed: Callable[[], None]) -> None:
        self.sock, self.writer, self.reader = sock, writer, reader
        self._on_frames, self._on_control, self._on_closed = on_frames, on_control, on_closed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox = bytearray()
        self._outbox = bytearray()
        self._backlog: deque[bytes] = deque()
        self._announced = 0
        self._flush_scheduled = False
        self._writing = False
        self.closed = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.sock.setblocking(False)
        loop.add_reader(self.sock.fileno(), self._readable)

    # -- out --------------------------------------------------------------------------------
    def put(self, frame: bytes) -> None:
        if self.closed:
            raise ConnectionError("the link is closed")
        if self._backlog:  # keep the order: nothing overtakes frames still waiting for room
            raise RingFull("earlier frames are still waiting for room")
        self.writer.put(frame)
        self._schedule_flush()

    def put_later(self, frame: bytes) -> None:
        """Put now if there is room, else keep it to put (in order) once the reader made room."""
        if self.closed:
            return
        self._backlog.append(frame)
        self._schedule_flush()

    def send_control(self, obj: Any) -> None:
        if not self.closed:
            self._send(control_message(obj))

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self.closed:
            return
        while self._backlog:
            try:
                self.writer.put(self._backlog[0])
            except RingFull:
                assert self._loop is not None  # retried shortly: the reader gives room back as it reads
                self._loop.call_later(0.001, self._schedule_flush)
                break
            self._backlog.popleft()
        if self.writer.head != self._announced:
            self._announced = self.writer.head
            self._send(pack_message(DOORBELL, _HEAD.pack(self.writer.head)))

    def _send(self, message: bytes) -> None:
        self._outbox += message
        self._write_out()

    def _write_out(self) -> None:
        try:
            while self._outbox:
                sent = self.sock.send(self._outbox)
                del self._outbox[:sent]
        except BlockingIOError:
            pass
        except OSError:
            self._close()
            return
        if self._outbox and not self._writing and self._loop is not None:
            self._writing = True
            self._loop.add_writer(self.sock.fileno(), self._writable)
        elif not self._outbox and self._writing and self._loop is not None:
            self._writing = False
            self._loop.remove_writer(self.sock.fileno())

    def _writable(self) -> None:
        self._write_out()

    # -- in ---------------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close()
            return
        self._inbox += data
        head = None
        while len(self._inbox) >= _HEADER.size:
            kind, size = _HEADER.unpack_from(self._inbox)
            end = _HEADER.size + size
            if len(self._inbox) < end:
                break
            payload = bytes(self._inbox[_HEADER.size:end])
            del self._inbox[:end]
            if kind == DOORBELL:
                (head,) = _HEAD.unpack(payload)  # only the newest head matters
            else:
                if head is not None:  # frames announced before this message come first
                    self._on_frames(self.reader.take(head))
                    head = None
                self._on_control(pickle.loads(payload))
        if head is not None:
            self._on_frames(self.reader.take(head))

    def close(self) -> None:
        """Close from this side (the other side sees the socket end)."""
        self._close(notify=False)

    def _close(self, notify: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        if self._loop is not None:
            self._loop.remove_reader(self.sock.fileno())
            if self._writing:
                self._loop.remove_writer(self.sock.fileno())
        self.sock.close()
        self.writer.release()
        self.reader.release()
        if notify:
            self._on_closed()
