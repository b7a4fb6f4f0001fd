"""The recipe of the default sentence-embedding model (`distill build-default --embeddings`):
`minilm` (all-MiniLM-L6-v2, whose mean pooling and normalisation the student inherits) distilled
into a 3-layer student on the built-in movie-review sentences, and how long that takes.

The defaults and the estimate come from a capped run on this project's 2-core CPU (the benchmark
`bench/distill/embeddings.py`, section "Sentence embeddings (STS-B)" of docs/RESULTS.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Measured by the benchmark's capped run (8,000 sentences, 250 steps at batch 32, max 64 tokens) on
# 2 CPU cores shared with other jobs (load average about 10): 1,976 s of training, 7.9 s per optimiser
# step (teacher forward included); FIXED_SECONDS is the rest of that run: reading the ~300,000
# sentences, evaluating teacher and student, exporting and checking fp32 and INT8 (the benchmark
# also had 3,000 STS sentences to embed, so a build without them takes less).
SECONDS_PER_STEP = 7.9
FIXED_SECONDS = 1340.0  # 55.2 min in all minus 32.9 min of training


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
