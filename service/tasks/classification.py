"""Text classification (single texts or text pairs): `[{label, score}]` per input, like
`pipeline("text-classification")` (see `service.tasks.scores`); on /v2 the best label, its score
and the logits."""

from __future__ import annotations

import numpy as np

from modelfolder.agreement import rule_for
from modelfolder.manifest import CLASSIFICATION, Manifest
from service.batching.batcher import ItemResult
from service.tasks.base import Columns, OutputTensor
from service.tasks.scores import ScoreFunction, classification_scores
from service.tasks.text.task import TextTask


class ClassificationTask(TextTask):
    name = CLASSIFICATION
    card_metrics = (("accuracy", "accuracy"), ("macro_f1", "macro-F1"))
    tei_type = "classifier"
    agreement = rule_for(CLASSIFICATION)
    outputs = (OutputTensor("label", "BYTES", (-1,)), OutputTensor("score", "FP32", (-1,)),
               OutputTensor("logits", "FP32", (-1, -1)))

    def decode(self, output, manifest: Manifest, top_k: int | None, function: ScoreFunction | None) -> list[dict]:
        return classification_scores(output, manifest.labels, top_k, function or "softmax")

    def columns(self, results: list[ItemResult], manifest: Manifest, function: ScoreFunction | None) -> Columns:
        best = [classification_scores(r.output, manifest.labels, 1, function or "softmax")[0] for r in results]
        logits = np.stack([r.output for r in results]).astype(np.float32)
        n = len(results)
        return {
            "label": ("BYTES", [n], [b["label"] for b in best]),
            "score": ("FP32", [n], [b["score"] for b in best]),
            "logits": ("FP32", [n, len(manifest.labels)], logits.ravel().tolist()),
        }
