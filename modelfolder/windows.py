"""A token sequence cut into overlapping parts: how long inputs (question-answering contexts, texts
to tag) become model windows."""

from __future__ import annotations


def part_ranges(length: int, size: int, stride: int) -> list[tuple[int, int]]:
    """[start, stop) of the parts of `length` tokens: `size` tokens each, `stride` shared by
    neighbours, the last part ending at `length`. Requires 0 <= stride < size."""
    if not 0 <= stride < size:
        raise ValueError(f"need 0 <= stride ({stride}) < size ({size})")
    if length <= size:
        return [(0, length)]
    ranges = []
    for start in range(0, length, size - stride):
        stop = min(start + size, length)
        ranges.append((start, stop))
        if stop == length:
            break
    return ranges


def resolve_stride(stride: int | None, room: int, default: int) -> int:
    """The overlap to use: the requested one, or `default` capped at half the room of a window."""
    return min(default, room // 2) if stride is None else stride
