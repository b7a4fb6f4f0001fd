"""Dynamic masking and the general-distillation loss terms, against counts and hand-worked values."""

import math

import pytest
import torch

from distill.general.losses import GeneralWeights, general_loss, masked_soft_target_loss, mlm_loss
from distill.general.masking import IGNORE, MaskingCollator, MaskingConfig, Vocabulary, mask_tokens, token_weights
from distill.losses import hidden_mse_loss

VOCAB = Vocabulary(size=100, mask_id=4, special_ids=(0, 1, 2, 3, 4))


def _batch(rows=256, width=50):
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 100, (rows, width), generator=generator)
    ids[:, 0], ids[:, -1] = 2, 3  # [CLS] ... [SEP]
    attention = torch.ones_like(ids)
    attention[:, 40:] = 0  # padding
    ids[:, 40:] = 0
    return ids, attention


def test_masking_chooses_15_percent_of_real_tokens_and_replaces_80_10_10():
    ids, attention = _batch()
    masked, labels = mask_tokens(ids, attention, VOCAB, MaskingConfig(), torch.Generator().manual_seed(0))
    chosen = labels != IGNORE
    real = (attention == 1) & (ids > 4)
    assert not (chosen & ~real).any()  # never padding, [CLS] or [SEP]
    assert chosen.sum() / real.sum() == pytest.approx(0.15, abs=0.02)
    assert torch.equal(labels[chosen], ids[chosen]) and torch.equal(masked[~chosen], ids[~chosen])
    as_mask = (masked[chosen] == VOCAB.mask_id).float().mean().item()
    kept = (masked[chosen] == ids[chosen]).float().mean().item()
    assert as_mask == pytest.approx(0.8, abs=0.04) and kept == pytest.approx(0.1 + 0.1 / 95, abs=0.03)
    assert not torch.isin(masked[chosen & (masked != VOCAB.mask_id)], torch.tensor([0, 1, 2, 3])).any()


def test_a_collator_masks_afresh_for_every_batch():
    collator = MaskingCollator(0, VOCAB, MaskingConfig(probability=0.5), seed=3)
    features = [{"input_ids": list(range(5, 45))}, {"input_ids": list(range(5, 25))}]
    first, second = collator(features), collator(features)
    assert first["attention_mask"][1].tolist() == [1] * 20 + [0] * 20
    assert not torch.equal(first["labels"], second["labels"])
    assert "labels" not in MaskingCollator(0, VOCAB, MaskingConfig(), seed=3, mask=False)(features)


def test_smoothing_draws_the_exact_count_and_prefers_rare_tokens():
    ids, attention = _batch()
    ids[:, 1:30] = 7  # a very frequent token
    weights = token_weights(ids[attention == 1].view(1, -1).tolist(), VOCAB, smoothing=0.7)
    assert weights[:5].sum() == 0 and weights[7] < weights[50]
    _, labels = mask_tokens(ids, attention, VOCAB, MaskingConfig(smoothing=0.7), torch.Generator().manual_seed(0),
                            weights)
    chosen = labels != IGNORE
    real = (attention == 1) & (ids > 4)
    assert int(chosen.sum()) == round(0.15 * int(real.sum()))
    frequent_share = (ids[real] == 7).float().mean().item()
    assert (labels[chosen] == 7).float().mean().item() < frequent_share / 2


def test_soft_targets_count_only_the_masked_positions():
    # position 0 masked: teacher (2 ln 3, 0) -> (3/4, 1/4) at T=2, student uniform: KL = 0.130812, x4 = 0.523248
    teacher = torch.tensor([[[2 * math.log(3.0), 0.0], [5.0, -5.0]]])
    student = torch.tensor([[[0.0, 0.0], [-9.0, 9.0]]])
    labels = torch.tensor([[1, IGNORE]])
    assert masked_soft_target_loss(student, teacher, labels, 2.0).item() == pytest.approx(0.523248, abs=1e-5)
    # cross-entropy at the masked position only: -ln(1/2)
    assert mlm_loss(student, labels).item() == pytest.approx(math.log(2.0), abs=1e-6)
    nothing = torch.full_like(labels, IGNORE)
    assert masked_soft_target_loss(student, teacher, nothing, 2.0).item() == 0.0 == mlm_loss(student, nothing).item()


def test_hidden_mse_leaves_out_padding():
    student = [torch.tensor([[[1.0, 1.0], [9.0, 9.0]]])]
    teacher = [torch.tensor([[[0.0, 3.0], [0.0, 0.0]]])]
    mask = torch.tensor([[1, 0]])
    assert hidden_mse_loss(student, teacher, mask).item() == pytest.approx((1 + 4) / 2)


def test_the_weighted_sum_and_the_hidden_only_weights():
    torch.manual_seed(0)
    s, t = torch.randn(2, 3, 7), torch.randn(2, 3, 7)
    labels = torch.tensor([[1, IGNORE, 3], [IGNORE, 5, IGNORE]])
    hidden = ([torch.randn(2, 3, 4)], [torch.randn(2, 3, 4)], torch.ones(2, 3))
    total, parts = general_loss(GeneralWeights(), s, t, labels, hidden)
    assert set(parts) == {"loss_ce", "loss_mlm", "loss_cos"}
    assert total.item() == pytest.approx(5 * parts["loss_ce"] + 2 * parts["loss_mlm"] + parts["loss_cos"], rel=1e-5)
    headless = GeneralWeights().hidden_only()
    assert (headless.alpha_ce, headless.alpha_mlm, headless.alpha_cos, headless.alpha_mse) == (0.0, 0.0, 1.0, 1.0)
    _, parts = general_loss(headless, s, None, None, hidden)
    assert set(parts) == {"loss_cos", "loss_mse"}
    with pytest.raises(ValueError, match="nothing to train"):
        general_loss(GeneralWeights(0, 0, 0, 0, 0), s, t, labels, hidden)
