"""The shared-memory ring and the frames: what is written is read back, in order, across the
end of the buffer; a full ring refuses a frame until the reader gives room back."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from service.scheduler import frames, ring

_names = itertools.count()


@pytest.fixture
def shm():
    segment = ring.create(100, f"serve-test-{id(_names)}-{next(_names)}")
    yield segment
    ring.destroy(segment)


def test_frames_come_back_in_order_across_the_end_of_the_buffer(shm):
    other = ring.attach(shm.name)  # as the reading process opens it
    writer, reader = ring.RingWriter(shm), ring.RingReader(other)
    sent = []
    for n in range(40):  # each frame 4 + 10..19 bytes: the 100-byte ring wraps many times
        payload = bytes([n]) * (10 + n % 10)
        writer.put(payload)
        sent.append(payload)
        if n % 2:  # the reader catches up every second frame
            assert reader.take(writer.head) == sent
            sent = []
    assert reader.take(writer.head) == sent
    reader.release()
    other.close()


def test_a_full_ring_refuses_until_the_reader_gives_room_back(shm):
    writer, reader = ring.RingWriter(shm), ring.RingReader(shm)
    writer.put(b"a" * 30)
    writer.put(b"b" * 20)
    with pytest.raises(ring.RingFull):
        writer.put(b"c" * 40)  # 58 of 100 bytes are taken
    assert reader.take(writer.head) == [b"a" * 30, b"b" * 20]
    writer.put(b"c" * 40)
    with pytest.raises(ring.RingFull):
        writer.put(b"x" * 97)  # larger than the ring itself
    assert reader.take(writer.head) == [b"c" * 40]


def test_leftover_rings_of_a_prefix_are_removed(tmp_path):
    (tmp_path / "serve-1-0-in").write_bytes(b"")
    (tmp_path / "serve-1-0-out").write_bytes(b"")
    (tmp_path / "serve-2-0-in").write_bytes(b"")
    assert ring.remove_rings("serve-1-", tmp_path) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["serve-2-0-in"]


def test_every_frame_round_trips():
    sequences = [[101, 7, 102], [101, 102], list(range(300))]
    submit = frames.decode(frames.submit(3, 2**40, sequences))
    assert submit == frames.Submit(3, 2**40, sequences)
    assert frames.decode(frames.cancel([5, 2**63])) == frames.Cancel([5, 2**63])
    row = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    result = frames.decode(frames.result(9, row, 0.25, 0.5, 17))
    assert (result.item, result.queue_s, result.inference_s, result.batch_size) == (9, 0.25, 0.5, 17)
    np.testing.assert_array_equal(result.output, row)
    result.output[0, 0, 0] = 1.0  # the row is the caller's own, writable
    failure = frames.decode(frames.failure(4, 2, 429, "queue_full", "full \u00e9", {"Retry-After": "1"}))
    assert failure == frames.Failure(4, 2, 429, "queue_full", "full \u00e9", {"Retry-After": "1"})
    with pytest.raises(ValueError):
        frames.decode(b"Z")


def test_too_little_shared_memory_stops_start_up_with_the_fix(tmp_path):
    from service.scheduler.shm import NoRoom, check_room, needed_bytes
    from service.settings import Settings

    check_room(Settings(workers=4), tmp_path)  # 16 MiB: any disk has that
    assert needed_bytes(Settings(workers=4, ipc_buffer_mb=3)) == 24 << 20
    with pytest.raises(NoRoom, match="--shm-size"):
        check_room(Settings(workers=10**7, ipc_buffer_mb=1024), tmp_path)
