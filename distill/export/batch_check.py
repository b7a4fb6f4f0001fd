"""The alone-vs-batched check of every variant the export built (`modelfolder.batch_invariance`),
run on the folder's validation sample through ONNX Runtime as the service pads and runs batches;
the result goes into each variant's manifest entry."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from distill.export.inputs import pad_batch
from distill.export.variants import BuiltVariant
from modelfolder.agreement import rule_for
from modelfolder.batch_invariance import check_batch_invariance
from modelfolder.variants import RunFn

log = logging.getLogger(__name__)


def session_run_fn(session: Any, output_names: Sequence[str], pad_id: int) -> RunFn:
    """Sequences -> the graph's outputs, one row per sequence (several outputs stacked on axis 1,
    as the service stacks start and end logits)."""

    def run(sequences: Sequence[Sequence[int]]) -> np.ndarray:
        batch = pad_batch([list(s) for s in sequences], list(range(len(sequences))), pad_id)
        outputs = session.run(list(output_names), batch.feeds())
        return outputs[0] if len(outputs) == 1 else np.stack(outputs, axis=1)

    return run


def check_batches(built: dict[str, BuiltVariant], sequences: Sequence[Sequence[int]], task: str,
                  output_names: Sequence[str], pad_id: int) -> None:
    """Record each variant's alone-vs-batched result; a variant with no session here (fp16 without
    CUDA) is left for the service's start-up check where it runs."""
    rule = rule_for(task)
    for name, variant in built.items():
        if variant.session is None:
            continue
        result = check_batch_invariance(session_run_fn(variant.session, output_names, pad_id), sequences, rule)
        variant.batch_invariance = result.as_dict()
        (log.warning if result.status == "failed" else log.info)("%s: %s", name, result.note)
