"""Parity: the comparison itself, the batching it runs on, and exports that must fail it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from distill.export.inputs import fixed_batch, make_batches
from distill.export.parity import Outputs, ParityError, check, collect, compare
from distill.tasks.classification.metrics import macro_f1
from tests.distill.export.conftest import fast_config


def test_batches_mix_lengths_and_pad_right():
    encoded = [[2] + [7] * n + [3] for n in range(1, 41)]
    batches = make_batches(encoded, batch_size=8, pad_id=0, seed=0)
    assert sorted(i for b in batches for i in b.indices.tolist()) == list(range(40))
    widths = {b.input_ids.shape[1] for b in batches}
    assert len(widths) > 1  # padded length varies between batches
    for batch in batches:
        lengths = batch.attention_mask.sum(axis=1)
        assert lengths.max() - lengths.min() >= 8  # short and long rows share a batch
        for row, length in zip(batch.input_ids, lengths):
            assert (row[length:] == 0).all() and (row[:length] != 0).all()
    assert fixed_batch(encoded[:3], 5, 0).indices.tolist() == [0, 1, 2, 0, 1]


def test_collect_restores_validation_order():
    encoded = [[1] * (i + 1) for i in range(10)]
    batches = make_batches(encoded, 3, 0, seed=1)
    outputs = collect(lambda b: b.attention_mask.sum(1, keepdims=True).astype(float), batches)
    assert outputs.logits[:, 0].tolist() == [float(i + 1) for i in range(10)]


def test_check_passes_and_fails_with_numbers():
    ref = Outputs(np.array([[0.0, 1.0], [2.0, 0.0]], dtype=np.float32))
    close = Outputs(ref.logits + 5e-5)
    assert check("fp32", compare(ref, close)).max_abs_diff == pytest.approx(5e-5, rel=1e-2)
    far = Outputs(ref.logits + np.array([[0.0, 2e-4], [0.0, 0.0]], dtype=np.float32))
    with pytest.raises(ParityError) as info:
        check("fp32", compare(ref, far))
    assert info.value.max_abs_diff == pytest.approx(2e-4, rel=1e-2)
    assert info.value.label_agreement == 1.0
    assert "2.00" in str(info.value) and "allowed 1.0e-04" in str(info.value)
    flipped = Outputs(np.array([[0.0, 1.0], [0.0, 2e-5]], dtype=np.float32))
    with pytest.raises(ParityError) as info:
        check("fp32", compare(ref, flipped), tolerance=10.0)  # within tolerance, label changed
    assert info.value.label_agreement == 0.5
    nan = Outputs(np.full((2, 2), np.nan, dtype=np.float32))
    with pytest.raises(ParityError):
        check("fp32", compare(ref, nan))


def test_macro_f1():
    labels = np.array([0, 0, 1, 1])
    assert macro_f1(labels, labels, 2) == 1.0
    assert macro_f1(np.array([0, 0, 0, 1]), labels, 2) == pytest.approx((0.8 + 2 / 3) / 2)


def _perturb_classifier_bias(path: Path, delta: float) -> None:
    """Add `delta` to the classifier's output bias initializer in the ONNX file."""
    model = onnx.load(str(path))
    for init in model.graph.initializer:
        value = numpy_helper.to_array(init)
        if value.shape == (2,) and "classifier" in init.name:
            init.CopyFrom(numpy_helper.from_array(value + delta, init.name))
            onnx.save(model, str(path))
            return
    raise AssertionError("no classifier bias initializer found")


def _expect_parity_error(run_dir: Path, tmp_path: Path, variant: str) -> ParityError:
    from distill.folder_export import export_model_folder

    target = tmp_path / "models" / "broken"
    with pytest.raises(ParityError) as info:
        export_model_folder(fast_config(run_dir, target, latency=None))
    assert info.value.variant == variant
    assert info.value.examples == 72
    assert not target.exists()
    assert list((tmp_path / "models").iterdir()) == []  # the staging folder is gone too
    return info.value


def test_broken_traced_graph_raises(run_dir: Path, tmp_path: Path, monkeypatch):
    from distill.export import graph as onnx_graph

    real = onnx_graph.export_torch

    def export_then_break(model, path, *args, **kwargs):
        real(model, path, *args, **kwargs)
        _perturb_classifier_bias(path, 1e-3)

    monkeypatch.setattr(onnx_graph, "export_torch", export_then_break)
    error = _expect_parity_error(run_dir, tmp_path, "fp32 (traced)")
    assert error.max_abs_diff == pytest.approx(1e-3, rel=0.01)


def test_broken_optimised_graph_raises(run_dir: Path, tmp_path: Path, monkeypatch):
    from distill.export import graph as onnx_graph

    real = onnx_graph.optimize_bert

    def optimise_then_break(source, target, *args, **kwargs):
        fusions = real(source, target, *args, **kwargs)
        _perturb_classifier_bias(target, 3e-4)
        return fusions

    monkeypatch.setattr(onnx_graph, "optimize_bert", optimise_then_break)
    error = _expect_parity_error(run_dir, tmp_path, "fp32 (optimised)")
    assert error.max_abs_diff == pytest.approx(3e-4, rel=0.05)
    assert error.label_agreement == 1.0  # labels alone would not have caught it
