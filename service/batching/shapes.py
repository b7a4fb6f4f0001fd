"""Fixed tensor shapes for providers that prepare each new shape once, slowly (CUDA).

On CUDA, ONNX Runtime takes about 40 ms the first time it runs the fp16 graph on an input shape it
has not seen (measured on an H200: a 200-call sweep of random shapes ran at a median of 45 ms per
call, and at 0.48 ms once every shape had been seen). Batches of any size from 1 to 128 and any
length up to `max_seq_len` make thousands of shapes. Padding each batch up to one of a few
shapes -- lengths to a multiple of LENGTH_STEP, batch sizes to a power of two -- costs the GPU
almost nothing and lets the warm-up run every shape before the server reports ready.
"""

from __future__ import annotations

LENGTH_STEP = 16


def bucket_length(length: int, max_seq_len: int) -> int:
    """`length` rounded up to a multiple of LENGTH_STEP, never past `max_seq_len`."""
    return min(max_seq_len, -(-length // LENGTH_STEP) * LENGTH_STEP)


def bucket_size(size: int) -> int:
    """The smallest power of two that holds `size` rows."""
    return 1 << max(0, size - 1).bit_length()


def all_shapes(max_seq_len: int, max_items: int) -> list[tuple[int, int]]:
    """Every (batch size, length) a batch of at most `max_items` items can be padded to."""
    lengths = sorted({bucket_length(n, max_seq_len) for n in range(1, max_seq_len + 1)})
    sizes = sorted({bucket_size(n) for n in range(1, max_items + 1)})
    return [(size, length) for length in lengths for size in sizes]
