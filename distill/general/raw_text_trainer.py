"""The training loop of general distillation: the shared `distill.distillation_trainer` set-up (arguments,
checkpoints and resume, precision, torchrun, TensorBoard) with the general loss in place of a task's."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import PreTrainedModel

from distill.distillation_trainer import DistillationTrainer, TrainConfig, TrainResult, fit, training_arguments
from distill.general.losses import GeneralWeights, general_loss


class SequenceDataset(torch.utils.data.Dataset):
    """Packed token-id sequences (the collator pads and masks each batch)."""

    def __init__(self, sequences: list[list[int]]):
        self.sequences = sequences

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.sequences[i]}


class GeneralTrainer(DistillationTrainer):
    """Distillation on raw text against a frozen pretrained teacher: soft targets and the student's
    own masked-LM loss when the teacher has an MLM head, hidden states always (the last layer, and
    the mapped intermediate layers when `intermediate`)."""

    def __init__(self, *args, intermediate: bool = False, **kwargs):
        super().__init__(*args, task=None, **kwargs)
        self.intermediate = intermediate

    def hidden_pairs(self, student_out, teacher_out) -> tuple[list, list]:
        students, teachers = [student_out.hidden_states[-1]], [teacher_out.hidden_states[-1]]
        if self.intermediate:  # student layer k (not the last) against the teacher layer it came from
            students += [student_out.hidden_states[k + 1] for k in range(len(self.layer_map) - 1)]
            teachers += [teacher_out.hidden_states[t + 1] for t in self.layer_map[:-1]]
        return students, teachers

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels", None)
        outputs = model(**inputs, output_hidden_states=True)
        with torch.no_grad(), self._teacher_autocast():
            teacher_out = self.teacher(**inputs, output_hidden_states=True)
        students, teachers = self.hidden_pairs(outputs, teacher_out)
        logits = getattr(outputs, "logits", None), getattr(teacher_out, "logits", None)
        loss, parts = general_loss(self.weights, *logits, labels, (students, teachers, inputs["attention_mask"]))
        self.record(model, parts)
        return (loss, outputs) if return_outputs else loss


def train_general(student: PreTrainedModel, teacher: PreTrainedModel, tokenizer, sequences: list[list[int]],
                  collator, config: TrainConfig, weights: GeneralWeights, layer_map: list[int], intermediate: bool,
                  work_dir: Path, log_dir: Path) -> TrainResult:
    """Train `student` (the MLM student, or only its encoder when the MLM terms are off) in place on
    the packed sequences (batches grouped by length unless the config says otherwise)."""
    grouped = config.group_by_length is not False  # packed sequences of mixed lengths: grouped unless told
    trainer = GeneralTrainer(
        model=student, args=training_arguments(config, work_dir, False, group_by_length=grouped),
        train_dataset=SequenceDataset(sequences), data_collator=collator, processing_class=tokenizer,
        teacher=teacher, weights=weights, layer_map=layer_map, intermediate=intermediate,
    )
    return fit(trainer, config, work_dir, log_dir)
