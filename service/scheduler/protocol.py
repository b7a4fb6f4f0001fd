"""What the model process tells each HTTP worker when it connects, and later."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelfolder.variants import VariantCheck
from service.batching.policy import BatchLimits


@dataclass(frozen=True)
class ModelDescription:
    """What a worker needs to know of a model the model process runs (the rest it reads from the
    folder itself: manifest, tokenizer)."""

    folder: str
    variant: str
    provider: str
    fixed_shapes: bool
    limits: BatchLimits
    checks: dict[str, VariantCheck] = field(default_factory=dict)


@dataclass(frozen=True)
class Welcome:
    """The first message on a new connection: the rings to attach and the models, by index."""

    requests: str  # shared-memory name of the ring the worker writes
    responses: str  # shared-memory name of the ring the model process writes
    models: list[str]  # a submit frame names its model by its index here
    descriptions: dict[str, ModelDescription]
    failed: dict[str, str]
    ready: bool


@dataclass(frozen=True)
class Readiness:
    """Sent to every worker when the warm-up ends: ready, and the models it had to drop."""

    ready: bool
    failed: dict[str, str]


def same_models(first: Welcome, later: Welcome) -> bool:
    """Whether a model process that started again serves what the first one did: the same models
    in the same order, each from the same folder with the same variant, provider and limits (a
    worker keeps the tokenizers and front ends it built from the first welcome; the models dropped
    at warm-up are compared when it turns ready)."""
    def key(welcome: Welcome) -> list:
        return [(name, d.folder, d.variant, d.provider, d.fixed_shapes, d.limits)
                for name, d in ((n, welcome.descriptions[n]) for n in welcome.models)]

    return key(first) == key(later)
