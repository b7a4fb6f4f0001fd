"""Training for question answering: the teacher's span-head fine-tuning (the model's own start/end
cross-entropy) and the student's distillation (`distill.losses.span_distillation_loss`), both on
labelled windows, through the same `transformers.Trainer` set-up as classification.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import PreTrainedModel
from transformers.modeling_outputs import QuestionAnsweringModelOutput

from distill.losses import LossWeights, span_distillation_loss
from distill.tasks.qa_features import Windows
from distill.trainer import DistillationTrainer, TrainConfig, TrainResult, build_trainer, fit


class WindowDataset(torch.utils.data.Dataset):
    """Labelled windows (no padding; the collator pads each batch to its longest window)."""

    def __init__(self, windows: Windows):
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict:
        w = self.windows
        return {"input_ids": w.input_ids[i], "attention_mask": w.attention_mask[i],
                "start_positions": w.start_positions[i], "end_positions": w.end_positions[i]}


class SpanDistillationTrainer(DistillationTrainer):
    """Fine-tuning when `teacher` is None, else distillation on start and end logits."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.teacher is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        positions = (inputs.pop("start_positions"), inputs.pop("end_positions"))
        outputs, teacher_out, hidden = self.forward_pair(model, inputs)
        student = (outputs.start_logits, outputs.end_logits)
        loss, parts = span_distillation_loss(
            self.weights, student, (teacher_out.start_logits, teacher_out.end_logits), positions,
            inputs["attention_mask"], hidden,
        )
        self.record(model, parts)
        spans = QuestionAnsweringModelOutput(start_logits=student[0], end_logits=student[1])
        return (loss, spans) if return_outputs else loss


def train_span_model(
    model: PreTrainedModel,
    tokenizer,
    train: Windows,
    config: TrainConfig,
    work_dir: Path,
    log_dir: Path,
    teacher: PreTrainedModel | None = None,
    weights: LossWeights = LossWeights(),
    layer_map: list[int] | None = None,
) -> TrainResult:
    """Train a span model in place on labelled windows; evaluation runs afterwards, on whole
    contexts (`distill.qa_evaluate`), not per window during training."""
    trainer = build_trainer(SpanDistillationTrainer, model, tokenizer, config, work_dir, WindowDataset(train),
                            teacher=teacher, weights=weights, layer_map=layer_map)
    return fit(trainer, config, work_dir, log_dir)
