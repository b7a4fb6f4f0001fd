"""The teacher head of the text tasks (`--teacher-head`): chosen from the teacher's
sentence-transformers pooling, built as chosen, trained, saved and loaded back with the same head,
and a student distilled from a mean-head teacher still exporting as a model folder."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from transformers import AutoTokenizer, BertForSequenceClassification, DistilBertForSequenceClassification

from distill.data import DataError
from distill.tasks.classification.models import build_student, load_classifier
from distill.tasks.classification.task import ClassificationTask
from distill.tasks.embeddings.pooling import Pooling, write_pooling
from distill.tasks.regression.models import load_regressor
from distill.tasks.regression.task import RegressionTask
from distill.tasks.text.heads import BertMeanPooledForSequenceClassification, choose_head, mean_of_tokens
from tests import tiny
from tests.distill.export.test_pair_export import data_file, run_and_export  # noqa: F401 (a fixture)

LABELS = ["negative", "positive"]


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A tiny BERT encoder without a sentence-transformers configuration."""
    return tiny.write_teacher(tmp_path_factory.mktemp("plain"), layers=2)


@pytest.fixture(scope="module")
def mean_pooled(plain, tmp_path_factory):
    """The same encoder declaring mean pooling the way sentence-transformers does."""
    folder = tmp_path_factory.mktemp("sbert") / "teacher"
    shutil.copytree(plain, folder)
    write_pooling(folder, Pooling("mean", True), 32)
    return folder


def test_auto_follows_the_declared_pooling(plain, mean_pooled, tmp_path):
    assert choose_head("auto", str(mean_pooled)) == "mean"
    assert choose_head("auto", str(plain)) == "cls"  # no sentence-transformers config: BERT's pooler
    cls_folder = tmp_path / "cls"
    shutil.copytree(plain, cls_folder)
    write_pooling(cls_folder, Pooling("cls", False), 32)
    assert choose_head("auto", str(cls_folder)) == "cls"
    assert choose_head("cls", str(mean_pooled)) == "cls" and choose_head("mean", str(plain)) == "mean"
    with pytest.raises(DataError, match="--teacher-head"):
        choose_head("max", str(plain))


def test_mean_of_tokens_leaves_padding_out():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    assert mean_of_tokens(hidden, torch.tensor([[1, 1, 0]])).tolist() == [[2.0, 3.0]]


def _batch(folder, labels):
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    texts = [text for text, _ in tiny.labelled_sentences()[:8]]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    return {**batch, "labels": labels(len(texts))}


@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_a_mean_head_trains_saves_and_loads_back(kind, mean_pooled, tmp_path):
    if kind == "classification":
        model, task = load_classifier(str(mean_pooled), LABELS), ClassificationTask()
        labels = lambda n: torch.arange(n) % 2  # noqa: E731
    else:
        model, task = load_regressor(str(mean_pooled)), RegressionTask()
        labels = lambda n: torch.linspace(0.0, 5.0, n)  # noqa: E731
    assert isinstance(model, BertMeanPooledForSequenceClassification)  # auto: the declared mean pooling
    assert not any("pooler" in name for name, _ in model.named_parameters())
    batch = _batch(mean_pooled, labels)
    before = model.classifier.weight.detach().clone()
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(3):
        loss = model(**batch).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
    assert torch.isfinite(loss) and not torch.equal(before, model.classifier.weight)
    model.save_pretrained(str(tmp_path))
    assert json.loads((tmp_path / "config.json").read_text())["classifier_pooling"] == "mean"
    model.eval()
    loaded = task.load_model(str(tmp_path)).eval()
    assert isinstance(loaded, BertMeanPooledForSequenceClassification)
    inputs = {key: value for key, value in batch.items() if key != "labels"}
    with torch.no_grad():
        assert torch.allclose(model(**inputs).logits, loaded(**inputs).logits, atol=1e-5)


def test_the_cls_head_stays_bert_s_own(mean_pooled):
    model = load_classifier(str(mean_pooled), LABELS, "cls")
    assert type(model) is BertForSequenceClassification


def test_a_student_of_a_mean_head_teacher_keeps_its_own_head(mean_pooled):
    teacher = load_classifier(str(mean_pooled), LABELS, "mean")
    student, mapping = build_student(teacher, 1, LABELS)
    assert isinstance(student, DistilBertForSequenceClassification) and len(mapping) == 1
    assert not torch.equal(student.classifier.weight, teacher.classifier.weight)  # not copied across readings


def test_a_student_of_a_mean_head_teacher_exports(mean_pooled, data_file, tmp_path):  # noqa: F811
    out = run_and_export(mean_pooled, data_file, tmp_path, "--label-column", "score", "--teacher-head", "mean")
    teacher_config = json.loads((out / "run" / "teacher" / "config.json").read_text())
    assert teacher_config["classifier_pooling"] == "mean"
    assert teacher_config["architectures"] == ["BertMeanPooledForSequenceClassification"]
    manifest = json.loads((out / "model" / "manifest.json").read_text())
    assert manifest["task"] == "regression" and manifest["inputs"] == ["input_ids", "attention_mask"]
    assert manifest["variants"]["fp32"]["validation"]["status"] == "passed"
    report = json.loads((out / "model" / "report.json").read_text())
    assert [row["name"] for row in report["models"]][:2] == ["teacher (PyTorch)", "student (PyTorch)"]


@pytest.mark.parametrize("head", ["cls", "mean"])
def test_a_new_regression_head_starts_at_the_mean_score(head, mean_pooled):
    model = load_regressor(str(mean_pooled), head, [1.0, 2.0, 4.5])
    assert model.classifier.bias.tolist() == pytest.approx([2.5])
    assert load_regressor(str(mean_pooled), head).classifier.bias.abs().max() < 1.0  # no scores: as initialised
