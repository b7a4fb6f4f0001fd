"""Fixed batch shapes (CUDA): the buckets, the warm-up that covers them, and unchanged outputs."""

from __future__ import annotations

import numpy as np

from service.batching.shapes import LENGTH_STEP, all_shapes, bucket_length, bucket_size
from service.serving.loading import load_runtime
from service.serving.state import warmup_shapes
from tests.service.conftest import make_settings


def test_lengths_round_up_to_the_step_and_sizes_to_powers_of_two():
    assert [bucket_length(n, 64) for n in (1, 16, 17, 50, 64)] == [16, 16, 32, 64, 64]
    assert bucket_length(60, 56) == 56  # never past the model's length
    assert [bucket_size(n) for n in (1, 2, 3, 5, 32, 33, 128)] == [1, 2, 4, 8, 32, 64, 128]


def test_the_warm_up_runs_every_shape_a_batch_can_be_padded_to():
    shapes = all_shapes(64, 128)
    assert len(shapes) == 4 * 8  # lengths 16..64, sizes 1..128
    for count in range(1, 129):
        for length in range(1, 65):
            assert (bucket_size(count), bucket_length(length, 64)) in shapes
    assert warmup_shapes(64, 128, fixed_shapes=True) == shapes
    assert len(warmup_shapes(64, 128)) == 6  # elsewhere: a few lengths and sizes only
    assert LENGTH_STEP == 16


def test_padded_batches_give_the_same_outputs(repository):
    runtime = load_runtime(repository / "sentiment", make_settings(repository, variant="fp32"))
    sequences = [e.ids for e in runtime.encode(["a fine film", "dull", "a long and winding story"], truncation=True)]
    plain = runtime.run(sequences)
    runtime.fixed_shapes = True
    padded = runtime.run(sequences)
    assert padded.shape == plain.shape == (3, 2)
    np.testing.assert_allclose(padded, plain, atol=1e-5)
