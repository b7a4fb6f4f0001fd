"""Export of a question-answering student: start/end logits through the validated export, INT8
measured by exact match / F1, and a model folder the service's manifest loader accepts."""

import json

import numpy as np
import pytest

from distill.tasks.question_answering.export import span_array
from modelfolder.manifest import load_model_folder


def test_span_array_packs_both_outputs_and_hides_padding():
    start = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    end = -start
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    packed = span_array(start, end, mask, width=4)
    assert packed.shape == (2, 2, 4) and packed.dtype == np.float32
    assert packed[0, 0].tolist() == [1.0, 2.0, -1e4, -1e4] and packed[1, 1].tolist() == [-4.0, -5.0, -6.0, -1e4]


@pytest.fixture(scope="module")
def qa_folder(qa_run, tmp_path_factory):
    from distill.export.config import ExportConfig
    from distill.folder_export import export_model_folder
    from distill.latency import LatencyConfig

    target = tmp_path_factory.mktemp("models") / "qa"
    export_model_folder(ExportConfig(student_dir=qa_run / "student", output_dir=target, threads=1,
                                     latency=LatencyConfig(warmup=1, repeats=3)))
    return target


def test_model_folder_is_a_qa_model_for_the_service(qa_folder, qa_run):
    manifest = load_model_folder(qa_folder)
    info = json.loads((qa_run / "student" / "distill_info.json").read_text())
    assert manifest.qa is not None  # the service's request defaults are the training settings
    for key in ("doc_stride", "max_question_len", "max_answer_len", "handle_impossible_answer"):
        assert getattr(manifest.qa, key) == info[key], key
    assert manifest.task == "question-answering" and manifest.outputs == ["start_logits", "end_logits"]
    assert manifest.max_seq_len == 48 and manifest.labels == [] and manifest.inputs == ["input_ids", "attention_mask"]
    assert set(manifest.variants) == {"fp32", "int8", "int8-dynamic", "fp16"}
    # per-token outputs, padding cut: static INT8 and fp32 answer the same alone or batched
    for name in ("fp32", "int8"):
        check = manifest.variants[name].batch_invariance
        assert check.status == "passed" and check.max_abs_diff <= check.tolerance, name
    assert manifest.variants["int8"].quantization == "static"
    assert set(manifest.metrics) >= {"exact_match", "f1"}


def test_fp32_matches_pytorch_on_both_outputs(qa_folder):
    fp32 = load_model_folder(qa_folder).variants["fp32"].validation
    assert fp32.status == "passed" and fp32.max_abs_diff <= 1e-4 and fp32.label_agreement == 1.0
    assert fp32.examples >= 4  # windows of the 4 validation questions
    assert 0.0 <= fp32.model_extra["exact_match"] <= fp32.model_extra["f1"] <= 1.0


def test_int8_is_judged_by_f1(qa_folder):
    variants = load_model_folder(qa_folder).variants
    int8 = variants["int8"].validation
    assert int8.model_extra["f1_drop"] == pytest.approx(variants["fp32"].validation.model_extra["f1"]
                                                         - int8.model_extra["f1"], abs=1e-6)
    assert variants["int8"].recommended == (int8.model_extra["f1_drop"] <= 0.01)
    assert variants["fp16"].validation.status in ("unvalidated", "passed", "failed")


def test_report_has_the_chain_with_qa_metrics(qa_folder):
    report = json.loads((qa_folder / "report.json").read_text())
    names = [row["name"] for row in report["models"]]
    assert names[:2] == ["teacher (PyTorch)", "student (PyTorch)"] and "student fp32 (ONNX Runtime)" in names
    for row in report["models"]:
        assert {"exact_match", "f1"} <= set(row) and "accuracy" not in row
    assert set(report["retention"]) == {"exact_match", "f1"}
    assert "| model | device | exact match | F1 |" in (qa_folder / "report.md").read_text()


def test_service_runtime_runs_the_qa_folder(qa_folder, qa_run):
    """The seam with the service: its runtime loads the folder and reproduces the student's spans."""
    import torch
    from transformers import AutoModelForQuestionAnswering

    from service.serving.loading import load_runtime
    from service.settings import Settings

    runtime = load_runtime(qa_folder, Settings(model_repository=qa_folder.parent, variant="fp32", intra_op_threads=1))
    pairs = [("where does the rhine reach the sea ?", "the rhine flows through basel before it reaches the north sea ."),
             ("who wrote the tune ?", "a tune by mozart .")]
    ids = [e.ids for e in runtime.encode_pairs(pairs)]
    spans = runtime.run(ids)
    model = AutoModelForQuestionAnswering.from_pretrained(str(qa_run / "student")).eval()
    for row, sequence in enumerate(ids):
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([sequence]), attention_mask=torch.ones(1, len(sequence), dtype=torch.long))
        expected = np.stack([out.start_logits[0].numpy(), out.end_logits[0].numpy()])
        assert np.max(np.abs(spans[row, :, : len(sequence)] - expected)) <= 1e-4
