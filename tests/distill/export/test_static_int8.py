"""Static INT8 at export: every MatMul with weights quantised with scales fixed in the graph, the
same answer for an input alone or batched (recorded in the manifest), calibration on the
student's training inputs when it carries them; dynamic INT8 kept beside it and marked."""

from __future__ import annotations

import shutil

import onnx

from distill.calibration import write_calibration
from distill.export.static_int8 import CalibrationSettings
from distill.folder_export import export_model_folder
from modelfolder.manifest import load_model_folder
from tests.distill.export.conftest import fast_config


def test_int8_is_static_and_answers_the_same_alone_or_batched(exported):
    manifest = load_model_folder(exported)
    static, dynamic = manifest.variants["int8"], manifest.variants["int8-dynamic"]
    assert static.quantization == "static" and static.precision == "int8"
    assert static.calibration["method"] == CalibrationSettings.method and static.calibration["inputs"] > 0
    assert static.calibration["source"] == "validation"  # this student carries no calibration file
    check = static.batch_invariance
    assert check.status == "passed" and check.max_abs_diff <= check.tolerance and check.examples > 0
    assert manifest.variants["fp32"].batch_invariance.status == "passed"
    assert not static.batch_dependent
    assert dynamic.quantization == "dynamic" and dynamic.batch_dependent


def test_every_matmul_with_weights_reads_quantised_weights(exported):
    graph = onnx.load(str(exported / "model.int8.onnx")).graph
    produced_by = {out: node for node in graph.node for out in node.output}
    weighted = [n for n in graph.node if n.op_type == "MatMul"
                and any(produced_by.get(i) is not None and produced_by[i].op_type == "DequantizeLinear"
                        and produced_by[i].input[0] in {t.name for t in graph.initializer} for i in n.input)]
    plain = [n for n in graph.node if n.op_type == "MatMul" and n not in weighted
             and any(i in {t.name for t in graph.initializer} for i in n.input)]
    assert weighted and plain == []
    assert sum(n.op_type == "QuantizeLinear" for n in graph.node) >= len(weighted)  # activations too


def test_calibration_comes_from_the_students_training_inputs(run_dir, tmp_path):
    student = tmp_path / "run" / "student"
    shutil.copytree(run_dir / "student", student)
    items = [{"input_ids": [2, *range(10, 10 + n), 3]} for n in range(1, 30)]
    write_calibration(student, items, size=20)
    config = fast_config(run_dir, tmp_path / "out", student_dir=student, variants=("fp32", "int8"), latency=None)
    export_model_folder(config)
    manifest = load_model_folder(tmp_path / "out")
    assert manifest.variants["int8"].calibration == {"method": CalibrationSettings.method, "inputs": 20, "source": "training",
                                                    "kept_fp32": []}
    assert set(manifest.variants) == {"fp32", "int8"}


def test_the_wide_input_matmuls_are_the_feed_forward_down_projections_and_the_head(exported):
    from distill.export.static_int8 import wide_input_matmuls

    names = wide_input_matmuls(exported / "model.onnx")
    assert names and all("lin2" in name or "classifier" in name for name in names)
    assert any("lin2" in name for name in names)


def test_a_static_int8_that_loses_too_much_is_tried_with_the_feed_forward_in_fp32(run_dir, tmp_path):
    from dataclasses import replace

    config = fast_config(run_dir, tmp_path / "models" / "sentiment")
    config = replace(config, variants=("fp32", "int8"), settings=replace(config.settings, max_accuracy_drop=-1.0))
    export_model_folder(config)  # every INT8 "fails": the retry runs, the better of the two is kept
    static = load_model_folder(config.output_dir).variants["int8"]
    kept = static.calibration["kept_fp32"]
    assert kept  # the same accuracy, nearer fp32's logits with the feed-forward output in fp32
    graph = onnx.load(str(config.output_dir / "model.int8.onnx")).graph
    weights = {t.name for t in graph.initializer}
    assert {n.name for n in graph.node} >= set(kept)
    for node in (n for n in graph.node if n.name in kept):
        assert node.op_type == "MatMul" and any(i in weights for i in node.input)  # fp32 weights, read as they are
