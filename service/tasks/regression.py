"""Regression (a similarity score per text or text pair, STS-B): `{score}` per input on /v1 and a
`score` column on /v2; `function_to_apply` defaults to "none" (the score itself)."""

from __future__ import annotations

from typing import Any

from modelfolder.agreement import rule_for
from modelfolder.manifest import REGRESSION, Manifest
from service.batching.batcher import ItemResult
from service.tasks.base import Columns, OutputTensor
from service.tasks.scores import ScoreFunction, apply_function
from service.tasks.text.task import TextTask


def _score(output, function: ScoreFunction | None) -> float:
    return float(apply_function(output, function or "none")[0])


class RegressionTask(TextTask):
    name = REGRESSION
    card_metrics = (("pearson", "Pearson"), ("spearman", "Spearman"))
    tei_type = "classifier"
    agreement = rule_for(REGRESSION)
    outputs = (OutputTensor("score", "FP32", (-1,)),)

    def decode(self, output, manifest: Manifest, top_k: int | None, function: ScoreFunction | None) -> dict:
        return {"score": _score(output, function)}

    def columns(self, results: list[ItemResult], manifest: Manifest, function: ScoreFunction | None) -> Columns:
        scores = [_score(r.output, function) for r in results]
        return {"score": ("FP32", [len(scores)], scores)}

    def model_info(self, manifest: Manifest) -> dict[str, Any]:
        return {"regression": True}
