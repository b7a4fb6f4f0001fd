"""The question-answering recipe's options from the literature on small students: intermediate-layer
terms (TinyBERT, MiniLM), teacher outputs cached across epochs, layer-wise learning-rate decay."""

from __future__ import annotations

import pytest
import torch
from transformers import DataCollatorWithPadding

from distill.distillation_trainer import DistillationTrainer, TrainConfig, train, training_arguments
from distill.intermediate import (
    IntermediateConfig,
    ProjectionCapture,
    attention_score_loss,
    intermediate_loss,
    layer_pairs,
    relation_kl,
    scores,
)
from distill.losses import LossWeights
from distill.optim import layer_depth
from distill.tasks.question_answering.features import WindowDataset, make_windows
from distill.tasks.question_answering.models import build_span_student, load_question_answerer
from distill.teacher_cache import TeacherCache
from tests.distill.tasks.question_answering.test_qa_training import TASK, WINDOWS, _examples


def _batch(tokenizer, count: int = 6) -> dict:
    windows = make_windows(tokenizer, _examples(count), WINDOWS)
    return DataCollatorWithPadding(tokenizer)([{"input_ids": ids, "attention_mask": [1] * len(ids)}
                                               for ids in windows.input_ids])


@pytest.mark.parametrize("kind", ["tinybert", "minilm"])
def test_the_intermediate_term_is_zero_when_the_student_is_the_teacher(kind, qa_teacher, qa_tokenizer):
    teacher = load_question_answerer(str(qa_teacher)).eval()
    config = IntermediateConfig(kind)
    pairs = [(t, t) for _, t in layer_pairs(config, [0, 2], 4)]  # the teacher against itself
    batch = _batch(qa_tokenizer)
    assert batch["attention_mask"].min() == 0  # padding in the batch
    with ProjectionCapture(teacher, [s for s, _ in pairs]) as a, ProjectionCapture(teacher, [t for _, t in pairs]) as b, \
            torch.no_grad():
        out = teacher(**batch, output_hidden_states=True)
    same = (list(out.hidden_states), list(out.hidden_states))
    assert float(intermediate_loss(config, pairs, a, b, batch["attention_mask"], same)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("kind", ["tinybert", "minilm"])
def test_the_intermediate_term_trains_the_student_and_leaves_the_teacher_alone(kind, qa_teacher, qa_tokenizer):
    torch.manual_seed(0)
    teacher = load_question_answerer(str(qa_teacher)).eval()
    student, mapping = build_span_student(teacher, 2)
    config = IntermediateConfig(kind)
    pairs = layer_pairs(config, mapping, 4)
    assert mapping == [0, 3] and pairs == ([(0, 2), (1, 3)] if kind == "tinybert" else [(1, 3)])  # block ends 3, 4
    batch = _batch(qa_tokenizer)
    with ProjectionCapture(student, [s for s, _ in pairs]) as s, ProjectionCapture(teacher, [t for _, t in pairs]) as t:
        student_out = student(**batch, output_hidden_states=True)
        with torch.no_grad():
            teacher_out = teacher(**batch, output_hidden_states=True)
    hidden = (list(student_out.hidden_states), [teacher_out.hidden_states[i] for i in (0, 3, 4)])
    loss = intermediate_loss(config, pairs, s, t, batch["attention_mask"], hidden)
    assert float(loss) > 0
    loss.backward()
    for layer, _ in pairs:
        attention = student.distilbert.transformer.layer[layer].attention
        assert attention.q_lin.weight.grad.abs().sum() > 0 and attention.v_lin.weight.grad is not None
    assert all(p.grad is None for p in teacher.parameters())


def test_padded_positions_do_not_count():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 2, 5, 5), torch.randn(2, 2, 5, 5)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    changed = student.clone()
    changed[0, :, 3:, :] += 100.0  # padded queries of the first sequence
    changed[0, :, :, 3:] -= 100.0  # and its padded keys
    for loss in (attention_score_loss, relation_kl):
        assert torch.allclose(loss(student, teacher, mask), loss(changed, teacher, mask))
    q = torch.randn(1, 2, 4, 8)
    assert torch.allclose(scores(q, q), scores(q, q).transpose(-1, -2))


def test_an_unknown_intermediate_kind_is_refused():
    with pytest.raises(ValueError, match="tinybert"):
        IntermediateConfig("bogus")


@pytest.mark.parametrize("kind", ["tinybert", "minilm"])
def test_the_intermediate_term_alone_trains_the_student_towards_the_teacher(kind, qa_teacher, qa_tokenizer, tmp_path):
    torch.manual_seed(0)
    teacher = load_question_answerer(str(qa_teacher))
    student, mapping = build_span_student(teacher, 2)
    windows = make_windows(qa_tokenizer, _examples(16), WINDOWS)
    config = TrainConfig(epochs=12, batch_size=16, learning_rate=3e-3, warmup_ratio=0.0, logging_steps=1,
                         attention_dropout=0.0)
    result = train(TASK, student, qa_tokenizer, (WindowDataset(windows), None), config, tmp_path / "work",
                   tmp_path / "logs", teacher=teacher, weights=LossWeights(alpha_kd=0.0, alpha_ce=0.0, alpha_cos=0.0),
                   layer_map=mapping, intermediate=IntermediateConfig(kind))
    terms = [h["loss_intermediate"] for h in result.history if "loss_intermediate" in h]
    assert len(terms) == result.steps and sum(terms[-3:]) < 0.9 * sum(terms[:3])


def test_cached_teacher_outputs_replace_its_forward_pass_after_the_first_epoch(qa_teacher, qa_tokenizer, tmp_path):
    torch.manual_seed(0)
    teacher = load_question_answerer(str(qa_teacher))
    student, mapping = build_span_student(teacher, 2)
    calls = []
    teacher.register_forward_pre_hook(lambda *args: calls.append(1))
    windows = make_windows(qa_tokenizer, _examples(12), WINDOWS)
    config = TrainConfig(epochs=3, batch_size=4, warmup_ratio=0.0, logging_steps=1, cache_teacher=True)
    trainer_cache = []
    original = DistillationTrainer.__init__

    def keep(self, *args, **kwargs):
        original(self, *args, **kwargs)
        trainer_cache.append(self.cache)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DistillationTrainer, "__init__", keep)
        result = train(TASK, student, qa_tokenizer, (WindowDataset(windows), None), config, tmp_path / "w",
                       tmp_path / "l", teacher=teacher, weights=LossWeights(), layer_map=mapping)
    cache, batches = trainer_cache[0], -(-len(windows) // 4)
    assert result.steps == 3 * batches and len(calls) == batches  # the teacher ran in the first epoch only
    assert cache.misses == len(windows) and cache.hits == 2 * len(windows) and len(cache.store) == len(windows)


def test_cached_outputs_equal_fresh_ones_at_another_batch_width(qa_teacher, qa_tokenizer):
    teacher = load_question_answerer(str(qa_teacher)).eval()
    batch = _batch(qa_tokenizer, 4)
    cache = TeacherCache(hidden_layers=[2, 4])
    with torch.no_grad():
        out = teacher(**batch, output_hidden_states=True)
    cache.put(torch.arange(len(batch["input_ids"])), out, batch["attention_mask"])
    wider = torch.nn.functional.pad(batch["attention_mask"], (0, 3))
    again = cache.get(torch.arange(len(batch["input_ids"])), wider, layers=4)
    width = batch["attention_mask"].shape[1]
    real = batch["attention_mask"].bool()
    assert again.start_logits.shape[1] == width + 3 and again.hidden_states[0] is None
    assert torch.equal(again.start_logits[:, :width][real], out.start_logits[real])
    assert torch.allclose(again.hidden_states[4][:, :width][real], out.hidden_states[4][real], atol=0.05)
    assert cache.get(torch.tensor([0, 99]), wider, layers=4) is None and cache.misses == 2


def test_layer_wise_learning_rates_fall_by_the_decay_from_the_head_down(qa_teacher, qa_tokenizer, tmp_path):
    teacher = load_question_answerer(str(qa_teacher))
    student, mapping = build_span_student(teacher, 2)
    assert [layer_depth(n, 2) for n in ("distilbert.embeddings.word_embeddings.weight",
                                        "distilbert.transformer.layer.1.ffn.lin1.weight", "qa_outputs.bias")] == [0, 2, 3]
    assert layer_depth("bert.encoder.layer.11.output.dense.weight", 12) == 12
    config = TrainConfig(learning_rate=1e-3, layer_lr_decay=0.5)
    trainer = DistillationTrainer(
        model=student, args=training_arguments(config, tmp_path, False), task=TASK, teacher=teacher,
        train_dataset=WindowDataset(make_windows(qa_tokenizer, _examples(4), WINDOWS)),
        data_collator=DataCollatorWithPadding(qa_tokenizer), layer_map=mapping, layer_lr_decay=0.5)
    optimizer = trainer.create_optimizer()
    rates = {}
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            rates[id(parameter)] = group["lr"]
    named = dict(student.named_parameters())
    assert len(rates) == len(named)  # every parameter once
    assert rates[id(named["qa_outputs.weight"])] == pytest.approx(1e-3)
    assert rates[id(named["distilbert.transformer.layer.1.attention.q_lin.weight"])] == pytest.approx(5e-4)
    assert rates[id(named["distilbert.transformer.layer.0.attention.q_lin.weight"])] == pytest.approx(2.5e-4)
    assert rates[id(named["distilbert.embeddings.word_embeddings.weight"])] == pytest.approx(1.25e-4)
    no_decay = [g for g in optimizer.param_groups if g["weight_decay"] == 0.0]
    assert any(id(named["qa_outputs.bias"]) in map(id, g["params"]) for g in no_decay)


@pytest.mark.parametrize("options, message", [
    (["--qa-intermediate", "bogus"], "choose one of none, tinybert, minilm"),
    (["--qa-intermediate", "minilm", "--qa-cache-teacher"], "drop --qa-cache-teacher"),
])
def test_build_default_refuses_recipe_options_it_cannot_serve_in_one_line(options, message, tmp_path):
    from typer.testing import CliRunner

    from distill.cli import app

    result = CliRunner().invoke(app, ["build-default", "-o", str(tmp_path), "--qa-data", "squad.json", *options])
    assert result.exit_code == 2 and message in " ".join(result.output.split()) and "Traceback" not in result.output
