"""The question-answering recipe of `distill build-default --qa-data` (`make run QA_DATA=...`): how
the minilm teacher's span head is fine-tuned and the student distilled, and how long it takes.

Every value was chosen by a measurement on the SQuAD validation articles, recorded with its
command in docs/RESULTS.md ("Question answering" sections, bench/distill/qa/recipe.py and
bench/distill/squad.py); the same values scale to a GPU unchanged (more questions, same settings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from distill.losses import LossWeights


@dataclass(frozen=True)
class QARecipe:
    max_seq_len: int = 256  # SQuAD paragraphs average ~180 tokens with the question; 384 for long documents
    doc_stride: int = 128
    # share of the training windows without the answer that are kept: on SQuAD at 256 tokens they are
    # 10.6% of the windows (702 of 6,644), all kept; long documents (COVID-QA) are mostly such windows
    keep_answerless: float = 1.0
    teacher_epochs: float = 3.0
    epochs: float = 3.0  # of distillation
    batch_size: int = 32
    learning_rate: float = 1e-4  # both steps; linear decay after 10% warm-up
    attention_dropout: float = 0.0  # twice as fast a CPU step (distill/dropout.py)
    student_layers: int = 3
    # KL on start and end at T 4 (x T^2) + gold spans + hidden cosine: the best of the sweep on the
    # validation articles (docs/RESULTS.md, bench/distill/qa/recipe.py), tied on F1 with KL alone at T 2
    weights: LossWeights = field(default_factory=lambda: LossWeights(temperature=4.0))
    # Options from the literature on small students, off until measured (bench/gpu/distillation
    # --stages qa-variants): intermediate-layer terms "tinybert" or "minilm" (distill/intermediate.py)
    # with their weight, the teacher's outputs cached after the first epoch (distill/teacher_cache.py),
    # and layer-wise learning-rate decay of the student (distill/optim.py; 1: none). Longer
    # distillation than fine-tuning is `epochs` > `teacher_epochs`.
    intermediate: str = "none"
    intermediate_alpha: float = 1.0
    cache_teacher: bool = False
    layer_lr_decay: float = 1.0


# Measured on 2 CPU cores (bench/distill/squad.py: the 5,661 questions of articles-train-v1.1.json,
# 6,644 windows of 256 tokens, batch 32 grouped by length; the build took 44.0 minutes): seconds per
# training window and epoch of teacher fine-tuning (1,178 s for 3 epochs) and of distillation, the
# teacher's forward pass included (1,022 s); evaluating both models and exporting, with the parity
# and INT8 checks, per validation question (1,871 questions: 444 s), and loading.
TEACHER_SECONDS_PER_WINDOW = 1.9 / 32
STUDENT_SECONDS_PER_WINDOW = 1.64 / 32
WINDOWS_PER_QUESTION = 1.17  # SQuAD at 256 tokens (1.03 at 384); long documents have many more
EVAL_SECONDS_PER_QUESTION = 0.2
FIXED_SECONDS = 60.0


def expected_seconds(recipe: QARecipe, train_questions: int, validation_questions: int) -> float:
    """The build's expected duration on 2 CPU cores for SQuAD-like paragraphs."""
    windows = train_questions * WINDOWS_PER_QUESTION
    training = windows * (recipe.teacher_epochs * TEACHER_SECONDS_PER_WINDOW + recipe.epochs * STUDENT_SECONDS_PER_WINDOW)
    return training + validation_questions * EVAL_SECONDS_PER_QUESTION + FIXED_SECONDS
