"""A short run of the one training loop lowers the loss, for fine-tuning and for distillation."""

import torch
from transformers import AutoModelForSequenceClassification

from distill.distillation_trainer import TrainConfig, train
from distill.losses import LossWeights
from distill.tasks.classification.data import DataConfig, load_data
from distill.tasks.classification.models import build_student, load_classifier
from distill.tasks.registry import get_task
from distill.tasks.text.features import TextDataset
from distill.teacher import load_tokenizer

# 18 training examples in one batch; a random tiny BERT needs a high rate to leave its plateau quickly.
FAST = TrainConfig(epochs=30, batch_size=18, learning_rate=5e-3, warmup_ratio=0.0, logging_steps=1,
                   evaluate_each_epoch=False)
TASK = get_task("text-classification")


def _datasets(tokenizer, data):
    return TextDataset(tokenizer, data.train, 32), None


def _losses(result):
    return [h["loss"] for h in result.history if "loss" in h]


def test_finetuning_lowers_the_loss(headless_teacher, reviews_csv, tmp_path):
    data = load_data(DataConfig(source=str(reviews_csv), validation_fraction=0.25))
    torch.manual_seed(0)
    model = load_classifier(str(headless_teacher), data.label_names)
    tokenizer = load_tokenizer(str(headless_teacher))
    result = train(TASK, model, tokenizer, _datasets(tokenizer, data), FAST, tmp_path / "work", tmp_path / "logs")
    losses = _losses(result)
    assert result.steps == 30
    assert sum(losses[-3:]) / 3 < 0.5 * sum(losses[:3]) / 3
    assert any(p.name.startswith("events") for p in (tmp_path / "logs").iterdir())


def test_distillation_lowers_the_loss_and_records_parts(headed_teacher, reviews_csv, tmp_path):
    data = load_data(DataConfig(source=str(reviews_csv), validation_fraction=0.25))
    teacher = AutoModelForSequenceClassification.from_pretrained(str(headed_teacher))
    torch.manual_seed(0)
    student, mapping = build_student(teacher, 2, data.label_names)
    tokenizer = load_tokenizer(str(headed_teacher))
    result = train(TASK, student, tokenizer, _datasets(tokenizer, data), FAST, tmp_path / "work", tmp_path / "logs",
                   teacher=teacher, weights=LossWeights(), layer_map=mapping)
    logged = [h for h in result.history if "loss" in h]
    assert {"loss_kd", "loss_ce", "loss_cos"} <= set(logged[0])
    assert logged[-1]["loss"] < logged[0]["loss"]
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
