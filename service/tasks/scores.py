"""Per-task decoding of model outputs into Hugging Face pipeline shapes.

Text classification follows `transformers.TextClassificationPipeline`:
- `function_to_apply`: "softmax" (the pipeline's default for single-label models with 2+ labels),
  "sigmoid" (multi-label), or "none" (raw logits).
- `top_k`: an integer gives the k best labels, best first; null gives every label, best first.
  When the field is left out the service answers the single best label (k = 1), as the pipeline
  does; unlike the pipeline's legacy mode it still wraps it in a list, so every input always
  yields a list of {label, score}.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

ScoreFunction = Literal["softmax", "sigmoid", "none"]


def apply_function(logits: np.ndarray, function: ScoreFunction) -> np.ndarray:
    """Scores from the logits of one input (1-D)."""
    logits = np.asarray(logits, dtype=np.float64)
    if function == "softmax":
        shifted = np.exp(logits - logits.max())
        return shifted / shifted.sum()
    if function == "sigmoid":
        return 1.0 / (1.0 + np.exp(-logits))
    if function == "none":
        return logits
    raise ValueError(f"unknown function_to_apply {function!r}")


def classification_scores(
    logits: np.ndarray, labels: list[str], top_k: int | None, function: ScoreFunction
) -> list[dict]:
    """[{label, score}] best first, `top_k` of them (all when None)."""
    scores = apply_function(logits, function)
    order = np.argsort(-scores, kind="stable")
    if top_k is not None:
        order = order[:top_k]
    return [{"label": labels[i], "score": float(scores[i])} for i in order]
