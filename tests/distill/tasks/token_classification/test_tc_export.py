"""Export of a token-classification student: per-token logits through the validated export, INT8
judged by entity F1, the manifest's token_classification block, and a folder the service loads."""

import json

import numpy as np
import pytest

from distill.tasks.token_classification.export import token_array
from modelfolder.manifest import load_model_folder
from modelfolder.sample import read_sample
from tests.distill.export.conftest import fast_config

TAGS = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def test_token_array_keeps_real_positions_and_zeroes_padding():
    logits = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    packed = token_array(logits, mask, width=4)
    assert packed.shape == (2, 4, 2) and packed.dtype == np.float32
    assert packed[0].tolist() == [[0, 1], [2, 3], [0, 0], [0, 0]]
    assert packed[1, :3].tolist() == logits[1].tolist() and packed[1, 3].tolist() == [0, 0]


@pytest.fixture(scope="module")
def tc_folder(tc_run, tmp_path_factory):
    from distill.folder_export import export_model_folder

    target = tmp_path_factory.mktemp("models") / "entities"
    export_model_folder(fast_config(tc_run, target))
    return target


def test_model_folder_is_a_token_classifier_for_the_service(tc_folder, tc_run):
    manifest = load_model_folder(tc_folder)
    info = json.loads((tc_run / "student" / "distill_info.json").read_text())
    assert manifest.task == "token-classification" and manifest.outputs == ["logits"]
    assert manifest.labels == TAGS and manifest.max_seq_len == 8
    assert manifest.inputs == ["input_ids", "attention_mask"] and manifest.headline_metric == "entity_f1"
    assert manifest.token_classification is not None
    assert (manifest.token_classification.label_scheme, manifest.token_classification.doc_stride) == ("IOB2", 2)
    assert set(manifest.metrics) == set(info["metrics"]) and "teacher_entity_f1" in manifest.metrics
    assert set(manifest.variants) == {"fp32", "int8", "int8-dynamic", "fp16"}
    # per-token outputs, padding cut: static INT8 and fp32 answer the same alone or batched
    for name in ("fp32", "int8"):
        check = manifest.variants[name].batch_invariance
        assert check.status == "passed" and check.max_abs_diff <= check.tolerance, name
    assert manifest.variants["int8"].quantization == "static"


def test_fp32_matches_pytorch_on_every_token(tc_folder):
    fp32 = load_model_folder(tc_folder).variants["fp32"].validation
    assert fp32.status == "passed" and fp32.max_abs_diff <= 1e-4 and fp32.label_agreement == 1.0
    assert fp32.examples >= 3  # windows of the 3 validation sentences (long ones give several)
    extra = fp32.model_extra
    assert extra["word_agreement"] == 1.0 and 0.0 <= extra["entity_f1"] <= 1.0
    assert {"entity_precision", "entity_recall"} <= set(extra)


def test_int8_is_judged_by_entity_f1(tc_folder):
    variants = load_model_folder(tc_folder).variants
    int8 = variants["int8"].validation.model_extra
    assert int8["entity_f1_drop"] == pytest.approx(variants["fp32"].validation.model_extra["entity_f1"]
                                                    - int8["entity_f1"], abs=1e-6)
    assert variants["int8"].recommended == (int8["entity_f1_drop"] <= 0.01)
    assert 0.0 <= int8["word_agreement"] <= 1.0


def test_validation_sample_holds_whole_windows(tc_folder, tc_run):
    from transformers import AutoTokenizer

    manifest = load_model_folder(tc_folder)
    sample = read_sample(tc_folder, manifest)
    tokenizer = AutoTokenizer.from_pretrained(str(tc_run / "student"))
    assert sample and all(len(ids) <= 8 for ids in sample)
    assert all(ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id for ids in sample)


def test_report_has_the_chain_with_entity_metrics(tc_folder):
    report = json.loads((tc_folder / "report.json").read_text())
    names = [row["name"] for row in report["models"]]
    assert names[:2] == ["teacher (PyTorch)", "student (PyTorch)"] and "student INT8 (ONNX Runtime)" in names
    for row in report["models"]:
        assert {"entity_precision", "entity_recall", "entity_f1"} <= set(row) and "accuracy" not in row
    assert set(report["retention"]) == {"entity_precision", "entity_recall", "entity_f1"}
    assert "| model | device | entity F1 | entity precision | entity recall |" in (tc_folder / "report.md").read_text()


def test_onnx_logits_reproduce_the_student_on_a_sentence(tc_folder, tc_run):
    """The seam with the service: the fp32 graph and the PyTorch student give the same tags."""
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tc_run / "student"))
    model = AutoModelForTokenClassification.from_pretrained(str(tc_run / "student")).eval()
    encoded = tokenizer(["anna lives in oslo"], return_tensors="np")
    feeds = {"input_ids": encoded["input_ids"].astype(np.int64), "attention_mask": encoded["attention_mask"].astype(np.int64)}
    session = ort.InferenceSession(str(tc_folder / "model.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], feeds)
    with torch.inference_mode():
        expected = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.numpy()
    assert logits.shape == (1, 6, len(TAGS))
    np.testing.assert_allclose(logits, expected, atol=1e-4)
