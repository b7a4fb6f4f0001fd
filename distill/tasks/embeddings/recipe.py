"""The recipe of the default sentence-embedding model (`distill build-default --embeddings`):
`minilm` (all-MiniLM-L6-v2, whose mean pooling and normalisation the student inherits) distilled
into a 3-layer student on the built-in movie-review sentences, and how long that takes.

The defaults and the estimate come from a capped run on this project's 2-core CPU (the benchmark
`bench/distill_embeddings.py`, section "Sentence embeddings (STS-B)" of docs/RESULTS.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Measured on 2 shared CPU cores (see the module docstring): seconds per optimiser step of embedding
# distillation at batch 32, max 64 tokens (teacher forward included), and seconds for evaluating
# teacher and student and exporting, on 1,000 held-out sentences without STS pairs.
SECONDS_PER_STEP = 8.0
FIXED_SECONDS = 600.0


@dataclass(frozen=True)
class EmbeddingRecipe:
    max_train_examples: int = 8000  # movie-review sentences (of about 300,000)
    epochs: float = 1.0
    batch_size: int = 32
    max_seq_len: int = 64  # STS-B and movie-review sentences rarely need more
    learning_rate: float = 1e-4
    student_layers: int = 3


def expected_seconds(recipe: EmbeddingRecipe, train_examples: int) -> float:
    steps = math.ceil(recipe.epochs * train_examples / recipe.batch_size)
    return steps * SECONDS_PER_STEP + FIXED_SECONDS
