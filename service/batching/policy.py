"""Which pending items run together: the batch-selection policy as pure functions.

No clocks, threads or I/O here: the scheduler (`service.batching.batcher`) passes in plain data and the
current time, so every rule can be tested exhaustively.

Rules of `select_batch`:
1. The oldest pending item is always in the next batch, so nothing starves.
2. The other items are taken by closeness of their token length to the oldest item's length
   (ties: older first), so items of similar length run together and padding waste stays low.
3. A batch never holds more than `max_items` items, and never more than `max_tokens` padded
   tokens (longest length x items) -- except a single item, which always forms a batch.
4. An item joins only if the batch's padding ratio (padding / padded tokens) stays at most
   `max_padding`. On a CPU a model call costs about its padded tokens, so a batch of 32 texts
   padded to the longest one can cost twice a well-grouped one; the items left out run together
   in the next batch instead. 1.0 turns the rule off (GPUs, where bigger batches matter more).

Rule of `wait_time`: run now when a full batch is available (the limits left items behind or
`max_items` is reached); otherwise wait until the oldest item has waited `max_wait_s`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence


@dataclass(frozen=True)
class PendingItem:
    """One text waiting for the model: its key, token length and arrival time (seconds)."""

    id: Hashable
    length: int
    enqueued_at: float


@dataclass(frozen=True)
class BatchLimits:
    max_items: int  # most items in one model call
    max_tokens: int  # most padded tokens (longest length x items) in one model call
    max_wait_s: float  # longest wait after the oldest item's arrival before a partial batch runs
    max_padding: float = 1.0  # highest share of padding in a batch of two or more items

    def __post_init__(self) -> None:
        if self.max_items < 1 or self.max_tokens < 1 or self.max_wait_s < 0 or not 0 <= self.max_padding <= 1:
            raise ValueError(f"invalid batch limits: {self}")


@dataclass(frozen=True)
class Batch:
    """The items of one model call, in the order they will be stacked."""

    items: tuple[PendingItem, ...]

    @property
    def size(self) -> int:
        return len(self.items)

    @property
    def padded_length(self) -> int:
        return max(item.length for item in self.items)

    @property
    def padded_tokens(self) -> int:
        return self.padded_length * self.size

    @property
    def real_tokens(self) -> int:
        return sum(item.length for item in self.items)

    @property
    def padding_ratio(self) -> float:
        """Share of the padded tensor that is padding (0: none)."""
        return 1.0 - self.real_tokens / self.padded_tokens

    @property
    def ids(self) -> list[Hashable]:
        return [item.id for item in self.items]


def _oldest(pending: Sequence[PendingItem]) -> PendingItem:
    return min(pending, key=lambda item: item.enqueued_at)


def select_batch(pending: Sequence[PendingItem], limits: BatchLimits) -> Batch | None:
    """The next batch to run from `pending` (None when nothing is pending)."""
    if not pending:
        return None
    head = _oldest(pending)
    others = [item for item in pending if item is not head]
    others.sort(key=lambda item: (abs(item.length - head.length), item.enqueued_at))
    chosen = [head]
    longest, real = head.length, head.length
    for item in others:
        if len(chosen) >= limits.max_items:
            break
        new_longest = max(longest, item.length)
        padded = new_longest * (len(chosen) + 1)
        if padded > limits.max_tokens or 1.0 - (real + item.length) / padded > limits.max_padding:
            continue  # a closer-fitting item further on may still join
        chosen.append(item)
        longest, real = new_longest, real + item.length
    chosen.sort(key=lambda item: item.enqueued_at)
    return Batch(tuple(chosen))


def wait_time(pending: Sequence[PendingItem], limits: BatchLimits, now: float) -> float:
    """Seconds to wait before running the next batch (0: run now). Requires pending items."""
    if not pending:
        raise ValueError("wait_time needs at least one pending item")
    if len(pending) >= limits.max_items:
        return 0.0
    batch = select_batch(pending, limits)
    assert batch is not None
    if batch.size < len(pending):  # the token or padding limit left items behind: the batch is full
        return 0.0
    return max(0.0, _oldest(pending).enqueued_at + limits.max_wait_s - now)
