"""The INT8 and fp16 variants: accuracy measured, loud reporting, and the CUDA-only fp16."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distill.export.graph import cuda_available
from distill.export.variants import AccuracyDropWarning, VariantSettings
from modelfolder.manifest import load_model_folder
from tests.distill.export.conftest import fast_config


@pytest.mark.parametrize("name", ["int8", "int8-dynamic"])
def test_int8_accuracy_is_measured(exported: Path, name: str):
    manifest = load_model_folder(exported)
    fp32, int8 = manifest.variants["fp32"], manifest.variants[name]
    assert int8.precision == "int8" and int8.providers == ["CPUExecutionProvider"]
    assert int8.validation.examples == 72
    assert 0.0 <= int8.validation.accuracy <= 1.0
    assert int8.validation.model_extra["accuracy_drop"] == pytest.approx(
        fp32.validation.accuracy - int8.validation.accuracy, abs=1e-6)
    assert int8.validation.max_abs_diff > 0.0  # quantisation does change the logits
    # the tiny student is confidently fitted: INT8 keeps its accuracy
    assert int8.validation.status == "passed" and int8.recommended


def test_dynamic_int8_is_smaller_than_fp32(exported: Path):
    # static INT8 keeps the fp32 embedding table (only MatMul weights are quantised) and adds its
    # scales, which on this tiny model outweigh what the int8 weights save
    variants = load_model_folder(exported).variants
    assert variants["int8-dynamic"].size_bytes < variants["fp32"].size_bytes


@pytest.mark.skipif(cuda_available(), reason="fp16 is validated where CUDA exists")
def test_fp16_unvalidated_on_cpu(exported: Path):
    fp16 = load_model_folder(exported).variants["fp16"]
    assert fp16.providers == ["CUDAExecutionProvider"]
    assert fp16.validation.status == "unvalidated"
    assert "CUDAExecutionProvider not available" in fp16.validation.note
    assert fp16.recommended is False
    assert fp16.validation.max_abs_diff is None  # nothing claimed for CUDA ...
    smoke = fp16.validation.model_extra  # ... but the graph ran on the CPU provider
    assert 0.0 < smoke["cpu_max_abs_diff"] < 0.05
    assert smoke["cpu_label_agreement"] == 1.0
    import onnx

    graph = onnx.load(str(exported / fp16.file)).graph
    weights = {init.data_type for init in graph.initializer}
    assert onnx.TensorProto.FLOAT16 in weights
    # int64 inputs and float32 logits, as the service feeds and reads them
    assert [i.type.tensor_type.elem_type for i in graph.input] == [onnx.TensorProto.INT64] * 2
    assert graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT


def test_int8_drop_is_reported_loudly(run_dir: Path, tmp_path: Path):
    """A stricter bound than the drop INT8 really has makes the export flag it: warning, not
    recommended, a note in the manifest and in the report."""
    from distill.folder_export import export_model_folder

    target = tmp_path / "strict"
    settings = VariantSettings(max_accuracy_drop=-0.5)  # any INT8 result counts as a drop
    config = fast_config(run_dir, target, variants=("fp32", "int8"), latency=None,
                         settings=settings)
    with pytest.warns(AccuracyDropWarning, match="points below fp32"):
        manifest = export_model_folder(config)
    int8 = manifest.variants["int8"]
    assert int8.recommended is False
    assert int8.validation.status == "failed"
    assert "not recommended" in int8.validation.note
    assert manifest.variants["fp32"].recommended is True
    report = json.loads((target / "report.json").read_text())
    assert int8.validation.note in report["export"]["notes"]
    assert int8.validation.note in (target / "report.md").read_text()
