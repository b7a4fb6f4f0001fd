"""The alone-vs-batched check on hand-made run functions: one whose rows depend only on
themselves, one that scales each row by its batch (as dynamic INT8's activation scales do)."""

from __future__ import annotations

import numpy as np
import pytest

from modelfolder.agreement import SameBest, SameTagPerToken
from modelfolder.batch_invariance import BATCH_TOLERANCE, GROUPINGS, check_batch_invariance, groupings

SEQUENCES = [[2, 5 + i % 7, *range(10, 10 + i % 9), 3] for i in range(40)]


def _pad(batch):
    width = max(len(s) for s in batch)
    return np.array([list(s) + [0] * (width - len(s)) for s in batch], dtype=np.float64)


def row_wise(batch):
    """Two logits per row, from the row's own tokens only (padding zeros add nothing)."""
    ids = _pad(batch)
    return np.stack([ids.sum(axis=1) / 100.0, np.sin(ids).sum(axis=1)], axis=1)


def batch_scaled(batch):
    """The same logits rounded on a grid set by the largest value in the batch (an 8-bit scale)."""
    logits = row_wise(batch)
    scale = np.abs(logits).max() / 127.0
    return np.round(logits / scale) * scale


def test_every_grouping_holds_every_input_once():
    lengths = [len(s) for s in SEQUENCES]
    found = groupings(len(SEQUENCES), lengths, seed=3)
    assert len(found) == len(GROUPINGS)
    for batches in found:
        assert sorted(i for batch in batches for i in batch) == list(range(len(SEQUENCES)))
    by_length = [lengths[i] for batch in found[0] for i in batch]
    assert by_length == sorted(by_length)


def test_a_row_wise_model_passes_with_no_difference():
    result = check_batch_invariance(row_wise, SEQUENCES, SameBest())
    assert result.status == "passed"
    assert result.max_abs_diff < 1e-12 and result.changed_decisions == 0  # summation order only
    assert result.examples == len(SEQUENCES) and result.tolerance == BATCH_TOLERANCE


def test_a_model_whose_scale_comes_from_the_batch_fails_and_says_by_how_much():
    result = check_batch_invariance(batch_scaled, SEQUENCES, SameBest())
    assert result.status == "failed"
    assert result.max_abs_diff > BATCH_TOLERANCE
    assert f"{result.max_abs_diff:.3g}" in result.note and "depend on the batch" in result.note


def test_padding_is_cut_before_comparing_per_token_outputs():
    def per_token(batch):  # padding positions get garbage that depends on the batch's width
        ids = _pad(batch)
        out = np.stack([ids, -ids], axis=2)
        out[ids == 0] = ids.shape[1]
        return out

    assert check_batch_invariance(per_token, SEQUENCES, SameTagPerToken()).status == "passed"


def test_no_sequences_is_an_error():
    with pytest.raises(ValueError):
        check_batch_invariance(row_wise, [], SameBest())
