"""One training loop for every task and both steps: teacher fine-tuning (the model's own loss)
and student distillation (the task maps the outputs onto `distill.losses` against a frozen teacher).

It is a `transformers.Trainer` subclass, so multi-GPU (torchrun / accelerate launch), bf16/fp16,
gradient accumulation, checkpoints and resuming, progress bars and TensorBoard logs come with it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, Trainer, TrainingArguments
from transformers.integrations import TensorBoardCallback
from transformers.trainer_utils import get_last_checkpoint

from distill.dropout import set_attention_dropout
from distill.estimate import StepTimer
from distill.intermediate import IntermediateConfig, captured, intermediate_loss, layer_pairs
from distill.losses import LossWeights
from distill.optim import layerwise_groups
from distill.student import block_ends, model_inputs
from distill.task_protocol import Task
from distill.teacher_cache import INDEX, IndexedDataset, TeacherCache

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    epochs: float = 3.0
    batch_size: int = 32  # per device; the global batch is batch_size x devices x grad accumulation
    gradient_accumulation: int = 1
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1  # fraction of the steps with a linear learning-rate warm-up
    weight_decay: float = 0.01
    seed: int = 42
    precision: str = "auto"  # auto: bf16 on GPUs that support it, else fp16 on GPU, fp32 on CPU
    logging_steps: int = 10
    evaluate_each_epoch: bool = True
    resume: bool = False  # continue from the last checkpoint in the run's checkpoint folder
    max_steps: int | None = None  # stop after this many optimiser steps (overrides epochs)
    shuffle: bool = True  # seeded shuffling of the training data each epoch
    group_by_length: bool | None = None  # shuffled groups of similar lengths; None: the task's choice
    # dropout on attention probabilities while training; None keeps the model's (0.1 for BERT). On CPU
    # it costs more than the rest of the forward pass (measurement in distill/dropout.py).
    attention_dropout: float | None = None
    layer_lr_decay: float = 1.0  # < 1: each layer learns at this times the rate of the one above (distill.optim)
    cache_teacher: bool = False  # distillation: keep the teacher's outputs after the first epoch (distill.teacher_cache)


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # Trainer log history: losses, eval metrics
    steps: int = 0
    seconds: float = 0.0


def resolve_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    if not torch.cuda.is_available():
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


class DistillationTrainer(Trainer):
    """Plain fine-tuning when `teacher` is None, else knowledge distillation from `teacher`; the
    task says which batch entries are labels and how the outputs feed the losses."""

    def __init__(self, *args, task: Task | None, teacher: PreTrainedModel | None = None,
                 weights: LossWeights = LossWeights(), layer_map: list[int] | None = None,
                 intermediate: IntermediateConfig = IntermediateConfig(), cache: TeacherCache | None = None,
                 layer_lr_decay: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.task = task
        self.teacher = teacher
        self.weights = weights
        self.layer_map = layer_map or []
        self.intermediate, self.cache, self.layer_lr_decay = intermediate, cache, layer_lr_decay
        self._parts: dict[str, list[float]] = {}
        if teacher is not None:
            teacher.to(self.args.device).eval()
            teacher.requires_grad_(False)
            self.pairs = layer_pairs(intermediate, self.layer_map, teacher.config.num_hidden_layers)

    def create_optimizer(self, model=None):
        """The plain optimiser, or with `layer_lr_decay` < 1 one learning rate per layer (distill.optim)."""
        if self.layer_lr_decay == 1.0 or self.optimizer is not None:  # (older Trainers take no `model`)
            return super().create_optimizer() if model is None else super().create_optimizer(model)
        target = self.model if model is None else model
        optimizer_class, kwargs = self.get_optimizer_cls_and_kwargs(self.args, target)
        self.optimizer = optimizer_class(layerwise_groups(
            target, self.args.learning_rate, self.layer_lr_decay, self.args.weight_decay,
            set(self.get_decay_parameter_names(target))), **kwargs)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.teacher is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = {key: inputs.pop(key) for key in self.task.label_keys}
        mask = inputs["attention_mask"]
        with captured(self.intermediate, model, self.teacher, self.pairs) as (student_qkv, teacher_qkv):
            outputs, teacher_out, hidden = self.forward_pair(model, inputs)
        loss, parts = self.task.distillation_loss(self.weights, outputs, teacher_out, labels, mask, hidden)
        if student_qkv is not None:
            embedded = None if hidden is None else (  # TinyBERT's hidden-state pairs, the embeddings first
                [outputs.hidden_states[0], *hidden[0]], [teacher_out.hidden_states[0], *hidden[1]])
            term = intermediate_loss(self.intermediate, self.pairs, student_qkv, teacher_qkv, mask, embedded)
            loss, parts = loss + self.intermediate.alpha * term, {**parts, "loss_intermediate": term.item()}
        self.record(model, parts)
        # hand back only the task's outputs, so evaluation does not gather every hidden state
        return (loss, self.task.eval_outputs(outputs)) if return_outputs else loss

    def forward_pair(self, model, inputs: dict):
        """Student and (frozen, or cached) teacher outputs on the same inputs, and the hidden-state
        triple (student layers, the teacher hidden states they stand for (`block_ends`), attention
        mask) when the cosine term or TinyBERT's hidden-state term is on."""
        use_hidden = (self.weights.alpha_cos > 0 or self.intermediate.kind == "tinybert") and bool(self.layer_map)
        index = inputs.pop(INDEX, None)
        # a BERT teacher gets the segments of text pairs; the DistilBERT student has no token types
        outputs = model(**model_inputs(model, inputs), output_hidden_states=use_hidden)
        targets = block_ends(self.layer_map, self.teacher.config.num_hidden_layers)
        teacher_out = self.cached(index, inputs["attention_mask"])
        if teacher_out is None:
            with torch.no_grad(), self._teacher_autocast():
                teacher_out = self.teacher(**inputs, output_hidden_states=use_hidden)
            if self.cache is not None and index is not None and model.training:
                self.cache.put(index, teacher_out, inputs["attention_mask"])
        hidden = None
        if use_hidden:
            teacher_hidden = [teacher_out.hidden_states[i] for i in targets]
            hidden = (list(outputs.hidden_states[1:]), teacher_hidden, inputs["attention_mask"])
        return outputs, teacher_out, hidden

    def cached(self, index, attention_mask):
        if self.cache is None or index is None:
            return None
        return self.cache.get(index, attention_mask, self.teacher.config.num_hidden_layers)

    def record(self, model, parts: dict[str, float]) -> None:
        """Keep each loss term of a training step, logged as its mean with the next loss."""
        if model.training:
            for name, value in parts.items():
                self._parts.setdefault(name, []).append(value)

    def _teacher_autocast(self):
        if self.args.bf16 or self.args.fp16:
            dtype = torch.bfloat16 if self.args.bf16 else torch.float16
            return torch.autocast(self.args.device.type, dtype=dtype)
        return contextlib.nullcontext()

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._parts:
            logs.update({name: float(np.mean(values)) for name, values in self._parts.items()})
            self._parts = {}
        super().log(logs, start_time)


def _sampling(config: TrainConfig, group_by_length: bool) -> str:
    """Seeded shuffling, file order, or shuffled groups of similar lengths (less padding)."""
    if not config.shuffle:
        return "sequential"
    return "group_by_length" if group_by_length else "random"


def _distributed_on_cpu() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()


def training_arguments(config: TrainConfig, work_dir: Path, has_eval: bool, group_by_length: bool = False,
                       keep_columns: bool = False) -> TrainingArguments:
    precision = resolve_precision(config.precision)
    per_epoch = "epoch" if (has_eval and config.evaluate_each_epoch) else "no"
    return TrainingArguments(
        output_dir=str(work_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps else -1,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=max(config.batch_size, 32),
        gradient_accumulation_steps=config.gradient_accumulation,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a fraction of the steps
        weight_decay=config.weight_decay,
        seed=config.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        logging_steps=config.logging_steps,
        logging_first_step=True,
        eval_strategy=per_epoch,
        save_strategy="epoch",
        save_total_limit=1,
        report_to=["tensorboard"],
        train_sampling_strategy=_sampling(config, group_by_length),
        dataloader_num_workers=0,
        ddp_backend="gloo" if _distributed_on_cpu() else None,
        use_cpu=not torch.cuda.is_available(),
        remove_unused_columns=not keep_columns,  # kept: batch entries the loss reads that the model does not take
    )


def train(task: Task, model: PreTrainedModel, tokenizer, datasets: tuple, config: TrainConfig, work_dir: Path,
          log_dir: Path, teacher: PreTrainedModel | None = None, weights: LossWeights = LossWeights(),
          layer_map: list[int] | None = None, intermediate: IntermediateConfig = IntermediateConfig(),
          cache: TeacherCache | None = None) -> TrainResult:
    """Train `model` in place on the task's (train, validation or None) datasets, batches padded
    by the task's collator to their longest example (grouped by length when the task or config asks); checkpoints under
    `work_dir`, TensorBoard events under `log_dir`. Without a teacher this is fine-tuning on the
    model's own loss; with one, `intermediate` adds TinyBERT's or MiniLM's layer terms, and `cache`
    (the teacher's outputs computed beforehand) stands in for the teacher's forward pass."""
    train_dataset, eval_dataset = datasets
    grouped = task.group_by_length if config.group_by_length is None else config.group_by_length
    cache = cache if cache is not None else teacher_cache(config, teacher, weights, layer_map or [], intermediate)
    trainer = DistillationTrainer(
        model=model,
        args=training_arguments(config, work_dir, eval_dataset is not None, grouped, keep_columns=cache is not None),
        train_dataset=train_dataset if cache is None else IndexedDataset(train_dataset),
        eval_dataset=eval_dataset,
        data_collator=task.collator(tokenizer),
        processing_class=tokenizer,
        compute_metrics=task.trainer_metrics if eval_dataset is not None else None,
        task=task, teacher=teacher, weights=weights, layer_map=layer_map, intermediate=intermediate, cache=cache,
        layer_lr_decay=config.layer_lr_decay,
    )
    return fit(trainer, config, work_dir, log_dir)


def teacher_cache(config: TrainConfig, teacher, weights: LossWeights, layer_map: list[int],
                  intermediate: IntermediateConfig) -> TeacherCache | None:
    """The cache of teacher outputs when the config asks for one (distillation only): the outputs
    and the hidden states the cosine term reads. The attention terms need the teacher's forward pass."""
    if not config.cache_teacher or teacher is None:
        return None
    if intermediate.on:
        raise ValueError("caching the teacher's outputs cannot serve intermediate-layer (attention) distillation")
    hidden = weights.alpha_cos > 0 and bool(layer_map)
    return TeacherCache(block_ends(layer_map, teacher.config.num_hidden_layers) if hidden else [])


def fit(trainer: Trainer, config: TrainConfig, work_dir: Path, log_dir: Path,
        say: Callable[[str], None] | None = tqdm.write) -> TrainResult:
    """Run a prepared trainer (TensorBoard events under `log_dir`, resuming when asked), with the
    config's attention dropout set on the model it trains; after its first steps, `say` hears how
    long the rest will take on this device (`distill.estimate`)."""
    if say is not None:
        trainer.add_callback(StepTimer(Path(work_dir).name, say))
    if config.attention_dropout is not None:
        set_attention_dropout(trainer.model, config.attention_dropout)
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback):
            callback.logging_dir = str(log_dir)
    checkpoint = get_last_checkpoint(str(work_dir)) if (config.resume and work_dir.is_dir()) else None
    output = trainer.train(resume_from_checkpoint=checkpoint)
    return TrainResult(
        history=list(trainer.state.log_history),
        steps=int(trainer.state.global_step),
        seconds=float(output.metrics.get("train_runtime", 0.0)),
    )


def training_summary(result: TrainResult) -> dict:
    """A training stage as a report records it: steps, seconds, first and last loss, the history."""
    losses = [h["loss"] for h in result.history if "loss" in h]
    return {"steps": result.steps, "seconds": round(result.seconds, 1),
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "history": result.history}
