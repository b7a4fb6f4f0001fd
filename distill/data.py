"""What every task's data loading shares: the error users see, `datasets` hub access, and seeded
splitting and subsampling (the same seed gives the same examples on every machine)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class DataError(ValueError):
    """A data set that cannot be used as given (missing column, empty, a single class, ...)."""


def check_fraction(fraction: float) -> None:
    if not 0.0 < fraction < 1.0:
        raise DataError(f"--validation-fraction must be between 0 and 1, got {fraction}")


def subsample(items: Sequence[T], cap: int | None, seed: int) -> list[T]:
    """At most `cap` of `items`, a seeded sample kept in the original order."""
    if cap is None or len(items) <= cap:
        return list(items)
    keep = sorted(random.Random(seed).sample(range(len(items)), cap))
    return [items[i] for i in keep]


def check_columns(columns: list[str], wanted: tuple[str, ...], where: str) -> None:
    """Refuse a data set without rows or without one of the `wanted` columns, listing those it has."""
    if not columns:
        raise DataError(f"the data set {where} has no rows")
    for name in wanted:
        if name not in columns:
            raise DataError(f"column {name!r} not found in {where}; columns are: {', '.join(columns)}")


def read_hub(name: str, subset: str | None, columns: tuple[str, ...], convert: Callable[[Any], list]):
    """(train, validation or None) of the `datasets` hub data set `name` (needs network): each split
    checked for `columns` and turned into examples by `convert(split)`."""
    import datasets

    try:
        loaded = datasets.load_dataset(name, subset)
    except Exception as error:  # the datasets library raises many unrelated types for "not found"
        raise DataError(f"cannot load data set {name!r}: {error}") from error
    if "train" not in loaded:
        raise DataError(f"data set {name!r} has no train split; splits are: {', '.join(loaded)}")
    splits = {}
    for split in ("train", "validation"):
        if split in loaded:
            check_columns(list(loaded[split].column_names), columns, name)
            splits[split] = convert(loaded[split])
    return splits["train"], splits.get("validation")
