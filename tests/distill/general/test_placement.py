"""Held-out evaluation after training on another device: the trainer moves only what it trains (the
teacher and, without MLM terms, the student's encoder), and evaluation must still run every module
on one device. `meta` stands in for the accelerator on machines without one."""

import pytest
import torch

from distill.general.evaluate import held_out_outputs
from distill.general.masking import MaskingCollator, MaskingConfig, Vocabulary
from distill.general.model import build_mlm_student, load_teacher
from tests.devices import ACCELERATORS, one_device, without_mask_shortcut


def _collator(tokenizer, student, mask: bool) -> MaskingCollator:
    vocabulary = Vocabulary(student.config.vocab_size, tokenizer.mask_token_id, tuple(tokenizer.all_special_ids))
    return MaskingCollator(tokenizer.pad_token_id, vocabulary, MaskingConfig(), 0, mask=mask)


@pytest.mark.parametrize("device", ACCELERATORS)
@pytest.mark.parametrize("teacher_kind", ["encoder_teacher", "mlm_teacher"])
def test_held_out_outputs_run_on_one_device_after_partial_placement(teacher_kind, device, request, monkeypatch):
    from transformers import AutoTokenizer

    folder = request.getfixturevalue(teacher_kind)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    teacher, with_head = load_teacher(str(folder))
    student, _ = build_mlm_student(teacher, 2)
    if device == "meta":
        without_mask_shortcut(monkeypatch)
    # what a trainer on `device` leaves behind: the teacher and the trained encoder moved, the head not
    teacher.to(device), student.distilbert.to(device)
    assert {p.device.type for p in student.parameters()} == {torch.device(device).type, "cpu"}
    sequences = [tokenizer("a wonderful and moving film")["input_ids"], tokenizer("i hated it")["input_ids"]]
    with one_device(teacher, student, expected=device) as checked:
        results = list(held_out_outputs(teacher, student, sequences, _collator(tokenizer, student, with_head), device))
    assert len(results) == 1 and "vocab_projector" in checked  # the whole student ran, head included
    batch, labels, outputs = results[0]
    assert outputs["student"].logits.device.type == torch.device(device).type
    assert (labels is not None) == with_head
