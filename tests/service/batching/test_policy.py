"""The pure batch-selection policy, exhaustively, with no clocks or threads."""

from __future__ import annotations

import random

import pytest

from service.batching.policy import Batch, BatchLimits, PendingItem, select_batch, wait_time

ROUNDS = 400


def random_pending(rng: random.Random, n: int, max_len: int = 64) -> list[PendingItem]:
    items = [PendingItem(i, rng.randint(1, max_len), rng.uniform(0.0, 1.0)) for i in range(n)]
    rng.shuffle(items)
    return items


def random_limits(rng: random.Random, max_len: int = 64) -> BatchLimits:
    return BatchLimits(
        max_items=rng.randint(1, 40), max_tokens=rng.randint(max_len, 40 * max_len),
        max_wait_s=rng.choice([0.0, 0.002, 0.01]), max_padding=rng.choice([0.0, 0.1, 0.2, 0.5, 1.0]),
    )


def drain(pending: list[PendingItem], limits: BatchLimits, policy=select_batch) -> list[Batch]:
    """Run the policy until nothing is pending (no new arrivals)."""
    left, batches = list(pending), []
    while left:
        batch = policy(left, limits)
        assert batch is not None and batch.size >= 1
        taken = set(batch.ids)
        assert len(taken) == batch.size
        left = [item for item in left if item.id not in taken]
        batches.append(batch)
    return batches


def fifo(pending, limits: BatchLimits) -> Batch:
    """The baseline: oldest first, stop at the first item that breaks a limit."""
    chosen: list[PendingItem] = []
    for item in sorted(pending, key=lambda i: i.enqueued_at):
        longest = max([i.length for i in chosen] + [item.length])
        if chosen and (len(chosen) == limits.max_items or longest * (len(chosen) + 1) > limits.max_tokens):
            break
        chosen.append(item)
    return Batch(tuple(chosen))


def test_empty_queue_gives_no_batch():
    assert select_batch([], BatchLimits(4, 100, 0.01)) is None


def test_batch_value():
    batch = Batch((PendingItem("a", 3, 0.0), PendingItem("b", 5, 0.1)))
    assert (batch.size, batch.padded_length, batch.padded_tokens, batch.real_tokens) == (2, 5, 10, 8)
    assert batch.padding_ratio == pytest.approx(0.2)
    assert batch.ids == ["a", "b"]


def test_limits_are_checked():
    for bad in [(0, 10, 0.0), (1, 0, 0.0), (1, 1, -1.0), (1, 1, 0.0, -0.1), (1, 1, 0.0, 1.5)]:
        with pytest.raises(ValueError):
            BatchLimits(*bad)


def test_never_exceeds_limits_and_always_takes_the_oldest():
    rng = random.Random(0)
    for _ in range(ROUNDS):
        pending, limits = random_pending(rng, rng.randint(1, 80)), random_limits(rng)
        batch = select_batch(pending, limits)
        oldest = min(pending, key=lambda i: i.enqueued_at)
        assert oldest in batch.items
        assert batch.size <= limits.max_items
        assert batch.size == 1 or batch.padded_tokens <= limits.max_tokens
        assert batch.size == 1 or batch.padding_ratio <= limits.max_padding + 1e-12
        assert set(batch.items) <= set(pending)
        assert list(batch.items) == sorted(batch.items, key=lambda i: i.enqueued_at)


def test_every_item_is_scheduled_exactly_once():
    rng = random.Random(1)
    for _ in range(ROUNDS // 4):
        pending, limits = random_pending(rng, rng.randint(1, 120)), random_limits(rng)
        batches = drain(pending, limits)
        scheduled = [item.id for batch in batches for item in batch.items]
        assert sorted(scheduled) == sorted(item.id for item in pending)


def test_no_item_starves_under_continuous_arrivals():
    """New short items keep arriving; a long old item still runs within one selection."""
    rng = random.Random(2)
    limits = BatchLimits(max_items=8, max_tokens=64, max_wait_s=0.0)
    pending = [PendingItem("long", 60, 0.0)]
    clock, waited = 0.0, {}
    for step in range(200):
        clock += 1.0
        pending += [PendingItem((step, k), rng.randint(1, 8), clock) for k in range(4)]
        batch = select_batch(pending, limits)
        for item in batch.items:
            waited[item.id] = clock - item.enqueued_at
        pending = [i for i in pending if i.id not in set(batch.ids)]
    assert waited["long"] == 1.0
    assert max(waited.values()) <= 2.0  # nobody waits more than two selections
    assert len(pending) <= 8


def test_single_item_longer_than_token_limit_still_runs():
    batch = select_batch([PendingItem(0, 500, 0.0), PendingItem(1, 3, 1.0)], BatchLimits(8, 100, 0.0))
    assert batch.ids == [0]


def test_length_grouping_pads_less_than_fifo():
    rng = random.Random(3)
    grouped_pad = fifo_pad = 0
    grouped_batches = fifo_batches = 0
    for _ in range(ROUNDS // 4):
        pending = random_pending(rng, rng.randint(20, 100))
        limits = BatchLimits(max_items=rng.randint(4, 16), max_tokens=64 * 16, max_wait_s=0.0)
        grouped, base = drain(pending, limits), drain(pending, limits, policy=fifo)
        grouped_pad += sum(b.padded_tokens - b.real_tokens for b in grouped)
        fifo_pad += sum(b.padded_tokens - b.real_tokens for b in base)
        grouped_batches += len(grouped)
        fifo_batches += len(base)
    assert grouped_pad < 0.6 * fifo_pad
    assert grouped_batches <= fifo_batches * 1.05  # grouping does not fragment the work


def test_similar_lengths_run_together():
    pending = [PendingItem(i, length, float(i)) for i, length in enumerate([10, 50, 11, 52, 9, 49])]
    batch = select_batch(pending, BatchLimits(max_items=3, max_tokens=10_000, max_wait_s=0.0))
    assert sorted(i.length for i in batch.items) == [9, 10, 11]


def test_wait_time_runs_full_batches_now_and_waits_for_partial_ones():
    limits = BatchLimits(max_items=4, max_tokens=40, max_wait_s=0.010)
    few = [PendingItem(0, 5, 1.000), PendingItem(1, 5, 1.004)]
    assert wait_time(few, limits, now=1.004) == pytest.approx(0.006)
    assert wait_time(few, limits, now=1.020) == 0.0
    full = [PendingItem(i, 5, 1.0) for i in range(4)]
    assert wait_time(full, limits, now=1.0) == 0.0
    over_tokens = [PendingItem(0, 20, 1.0), PendingItem(1, 20, 1.0), PendingItem(2, 20, 1.0)]
    assert wait_time(over_tokens, limits, now=1.0) == 0.0
    with pytest.raises(ValueError):
        wait_time([], limits, now=0.0)


def test_wait_time_never_exceeds_max_wait():
    rng = random.Random(4)
    for _ in range(ROUNDS):
        pending, limits = random_pending(rng, rng.randint(1, 50)), random_limits(rng)
        now = max(i.enqueued_at for i in pending) + rng.uniform(0.0, 0.02)
        delay = wait_time(pending, limits, now)
        oldest = min(i.enqueued_at for i in pending)
        assert 0.0 <= delay <= limits.max_wait_s
        assert delay == 0.0 or now + delay == pytest.approx(oldest + limits.max_wait_s)


def test_padding_limit_keeps_outliers_for_the_next_batch():
    """Oldest item 60 tokens long, others 10 or 58: with at most 10% padding only the 58s join it
    (one 10 would make it 244 real of 300 padded tokens, 19% padding);
    the short ones then run together with no padding at all."""
    pending = [PendingItem(0, 60, 0.0)] + [PendingItem(i, 10, 0.1 * i) for i in range(1, 6)] + [
        PendingItem(i, 58, 0.1 * i) for i in range(6, 9)]
    limits = BatchLimits(max_items=32, max_tokens=10_000, max_wait_s=0.01, max_padding=0.1)
    first = select_batch(pending, limits)
    assert first.ids == [0, 6, 7, 8]
    assert wait_time(pending, limits, now=0.0) == 0.0  # items left behind: the batch is full
    (second,) = drain([i for i in pending if i.id not in first.ids], limits)
    assert second.ids == [1, 2, 3, 4, 5] and second.padding_ratio == 0.0
    unbounded = select_batch(pending, BatchLimits(32, 10_000, 0.01, max_padding=1.0))
    assert unbounded.size == len(pending) and unbounded.padding_ratio > 0.3


def test_lower_padding_limit_never_pads_more_in_total():
    rng = random.Random(3)
    for _ in range(50):
        pending = random_pending(rng, 64)
        padded = {}
        for bound in (0.1, 1.0):
            batches = drain(pending, BatchLimits(32, 64 * 32, 0.0, max_padding=bound))
            padded[bound] = sum(b.padded_tokens for b in batches)
        assert padded[0.1] <= padded[1.0]
