"""Question-answering training: windows padded per batch (grouped by length), the split by article,
a short distillation that lowers the loss, and the hidden-state targets of the student layers."""

from __future__ import annotations

import random

import pytest
import torch
from transformers import DataCollatorWithPadding

from distill.distillation_trainer import DistillationTrainer, TrainConfig, train, training_arguments
from distill.dropout import set_attention_dropout
from distill.losses import LossWeights
from distill.student import block_ends
from distill.tasks.question_answering.data import Answer, QAExample, split_by_article
from distill.tasks.question_answering.features import WindowConfig, WindowDataset, make_windows
from distill.tasks.question_answering.models import build_span_student, load_question_answerer
from distill.tasks.registry import get_task
from tests.distill.tasks.question_answering import tiny_squad

TASK = get_task("question-answering")
WINDOWS = WindowConfig(max_seq_len=64, doc_stride=16, max_question_len=16)


def _examples(count: int, seed: int = 0) -> list[QAExample]:
    """Questions over contexts of 1 to 6 sentences of the tiny data: windows of very different lengths."""
    rng = random.Random(seed)
    sentences = [context for paragraphs in tiny_squad.ARTICLES.values() for context, _ in paragraphs]
    examples = []
    for i in range(count):
        context = " ".join(rng.sample(sentences, rng.randint(1, 6)))
        answer = "the black sea" if "the black sea" in context else context.split()[1]
        examples.append(QAExample(str(i), "where does the danube flow into ?", context,
                                  (Answer(answer, context.index(answer)),), f"article {i % 5}"))
    return examples


def _batches(model, tokenizer, windows, grouped: bool, tmp_path) -> list[dict]:
    config = TrainConfig(batch_size=8, group_by_length=grouped)
    trainer = DistillationTrainer(
        model=model, args=training_arguments(config, tmp_path, False, grouped),
        train_dataset=WindowDataset(windows), data_collator=DataCollatorWithPadding(tokenizer), task=TASK)
    return list(trainer.get_train_dataloader())


def test_question_answering_groups_windows_by_length():
    assert TASK.group_by_length and not get_task("text-classification").group_by_length


def test_no_batch_is_padded_past_its_longest_window(qa_teacher, qa_tokenizer, tmp_path):
    model = load_question_answerer(str(qa_teacher))
    windows = make_windows(qa_tokenizer, _examples(96), WINDOWS)
    lengths = sorted({len(ids) for ids in windows.input_ids})
    assert lengths[0] < 30 and lengths[-1] == WINDOWS.max_seq_len  # short and full windows both occur
    padding = {}
    for grouped in (False, True):
        batches = _batches(model, qa_tokenizer, windows, grouped, tmp_path / str(grouped))
        assert sum(len(b["input_ids"]) for b in batches) == len(windows)
        for batch in batches:
            real = batch["attention_mask"].sum(dim=1)
            assert batch["input_ids"].shape[1] == int(real.max())  # padded to its longest window only
        padding[grouped] = sum(int((b["attention_mask"] == 0).sum()) for b in batches)
        if grouped:  # batches of short windows are not padded to max_seq_len
            assert [b for b in batches if b["input_ids"].shape[1] < WINDOWS.max_seq_len]
    assert padding[True] < padding[False] / 2  # grouping by length leaves much less padding


def test_split_by_article_keeps_every_question_of_an_article_together():
    examples = [QAExample(f"{a}-{q}", "q ?", f"context {a} {q % 3}", (Answer("context", 0),), f"article {a}")
                for a in range(20) for q in range(7)]
    train, held = split_by_article(examples, 0.2, seed=3)
    assert len(held) == 4 * 7 and len(train) + len(held) == len(examples)
    assert not {e.title for e in train} & {e.title for e in held}
    for title in {e.title for e in held}:
        assert sum(e.title == title for e in held) == 7  # all of the article's paragraphs and questions
    assert split_by_article(examples, 0.2, seed=3) == (train, held)  # seeded
    assert split_by_article(examples, 0.2, seed=4)[1] != held


def test_block_ends_align_each_student_layer_with_the_end_of_its_teacher_block():
    assert block_ends([0, 2, 4], 6) == [2, 4, 6]  # the last one is the teacher's last layer
    assert block_ends([0, 2, 4, 7, 9, 11], 12) == [2, 4, 7, 9, 11, 12]
    assert block_ends([0, 1, 2, 3], 4) == [1, 2, 3, 4]  # a full-depth copy: layer k against layer k


def test_attention_dropout_is_set_on_modules_and_config(qa_teacher):
    teacher = load_question_answerer(str(qa_teacher))
    student, _ = build_span_student(teacher, 2)
    for model in (teacher, student):
        attention = [m.dropout for m in model.modules() if type(m).__name__.endswith("SelfAttention")]
        others = [(m, m.p) for m in model.modules() if isinstance(m, torch.nn.Dropout) and m not in attention]
        set_attention_dropout(model, 0.0)
        assert attention and all(d.p == 0.0 for d in attention)
        assert others and all(m.p == p for m, p in others)  # hidden and head dropout are left alone
    assert teacher.config.attention_probs_dropout_prob == 0.0 and student.config.attention_dropout == 0.0
    with pytest.raises(ValueError, match="attention dropout"):
        set_attention_dropout(teacher, 1.0)


@pytest.mark.parametrize("weights, falling", [
    (LossWeights(), ("loss", "loss_ce")),  # the defaults: KD + gold spans + cosine
    (LossWeights(alpha_kd=1.0, alpha_ce=0.0, alpha_cos=0.0), ("loss", "loss_kd")),  # the teacher alone
])
def test_a_short_distillation_lowers_the_loss(qa_teacher, qa_tokenizer, tmp_path, weights, falling):
    torch.manual_seed(0)
    teacher = load_question_answerer(str(qa_teacher))
    student, mapping = build_span_student(teacher, 2)
    torch.nn.init.normal_(student.qa_outputs.weight, std=0.5)  # a head that disagrees with the teacher's
    windows = make_windows(qa_tokenizer, _examples(16), WINDOWS)
    config = TrainConfig(epochs=25, batch_size=16, learning_rate=3e-3, warmup_ratio=0.0, logging_steps=1,
                         attention_dropout=0.0)
    result = train(TASK, student, qa_tokenizer, (WindowDataset(windows), None), config, tmp_path / "work",
                   tmp_path / "logs", teacher=teacher, weights=weights, layer_map=mapping)
    logged = [h for h in result.history if "loss" in h]
    assert result.steps == 25 * -(-len(windows) // 16) and {"loss_kd", "loss_ce"} <= set(logged[0])
    for key in falling:
        first, last = (sum(h[key] for h in part) / 3 for part in (logged[:3], logged[-3:]))
        assert last < 0.5 * first, key


def test_teacher_soft_targets_come_from_exactly_the_student_windows(qa_teacher, qa_tokenizer, tmp_path):
    teacher = load_question_answerer(str(qa_teacher))
    student, mapping = build_span_student(teacher, 2)
    seen = {}
    for name, model in (("teacher", teacher), ("student", student)):
        def record(_, args, kwargs, name=name):
            seen.setdefault(name, kwargs)

        model.register_forward_pre_hook(record, with_kwargs=True)
    windows = make_windows(qa_tokenizer, _examples(12), WINDOWS)
    trainer = DistillationTrainer(
        model=student, args=training_arguments(TrainConfig(batch_size=6), tmp_path, False, True),
        train_dataset=WindowDataset(windows), data_collator=DataCollatorWithPadding(qa_tokenizer), task=TASK,
        teacher=teacher, weights=LossWeights(), layer_map=mapping)
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.compute_loss(student, dict(batch))
    for key in ("input_ids", "attention_mask"):
        assert torch.equal(seen["teacher"][key], seen["student"][key]) and torch.equal(seen["student"][key], batch[key])
    assert "start_positions" not in seen["teacher"] and "start_positions" not in seen["student"]
