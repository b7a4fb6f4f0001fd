"""End to end: the tiny student exported into a model folder, checked file by file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from modelfolder.manifest import SCHEMA_VERSION, TASK_OUTPUTS, load_model_folder, sha256_file
from tests.distill.export.conftest import fast_config


def test_folder_loads_and_lists_the_files(exported: Path):
    manifest = load_model_folder(exported)
    assert manifest.schema_version == SCHEMA_VERSION
    assert manifest.name == "sentiment"
    assert manifest.task == "text-classification"
    assert manifest.labels == ["negative", "positive"]
    assert manifest.max_seq_len == 48
    assert manifest.inputs == ["input_ids", "attention_mask"]
    assert manifest.outputs == TASK_OUTPUTS["text-classification"]
    assert manifest.teacher == "tiny-bert-teacher"
    assert manifest.student_layers == 2
    assert manifest.package_version != ""
    files = {v.file for v in manifest.variants.values()}
    assert files == {"model.onnx", "model.int8.onnx", "model.int8-dynamic.onnx", "model.fp16.onnx"}
    names = sorted(p.name for p in exported.iterdir())
    others = {"manifest.json", "tokenizer.json", "report.json", "report.md", "curves.png",
              "comparison.png", "validation_sample.jsonl"}
    assert names == sorted(files | others)


def test_checksums_and_sizes_match_the_files(exported: Path):
    manifest = load_model_folder(exported)
    assert manifest.tokenizer_sha256 == sha256_file(exported / "tokenizer.json")
    for variant in manifest.variants.values():
        path = exported / variant.file
        assert variant.sha256 == sha256_file(path)
        assert variant.size_bytes == path.stat().st_size


def test_fp32_parity_is_recorded(exported: Path):
    fp32 = load_model_folder(exported).variants["fp32"]
    assert fp32.validation.status == "passed"
    assert fp32.validation.examples == 72
    assert fp32.validation.label_agreement == 1.0
    assert 0.0 <= fp32.validation.max_abs_diff <= 1e-4
    assert 0.0 <= fp32.validation.model_extra["traced_max_abs_diff"] <= 1e-4
    assert fp32.recommended and fp32.providers[0] == "CPUExecutionProvider"
    assert fp32.validation.model_extra["provider"] == "CPUExecutionProvider"


def test_bert_fusions_applied(exported: Path):
    fusions = load_model_folder(exported).variants["fp32"].fusions
    # 2 layers: one Attention per layer, one embedding LayerNorm, two skip LayerNorms per layer
    assert fusions.get("Attention") == 2
    assert fusions.get("EmbedLayerNormalization") == 1
    assert fusions.get("SkipLayerNormalization") == 4


def test_nothing_left_beside_the_folder(exported: Path):
    siblings = [p.name for p in exported.parent.iterdir()]
    assert siblings == ["sentiment"]


SERVE_WITHOUT_TORCH = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.modules["torch"] = None          # any import of torch now fails
    sys.modules["transformers"] = None
    import onnxruntime as ort
    from tokenizers import Tokenizer
    from modelfolder.manifest import load_model_folder
    folder = sys.argv[1]
    manifest = load_model_folder(folder)
    tok = Tokenizer.from_file(f"{folder}/{manifest.tokenizer}")
    tok.enable_truncation(manifest.max_seq_len)
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]"))
    texts = json.loads(sys.argv[2])
    enc = tok.encode_batch(texts)
    feeds = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
             "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
    out = {}
    for name in ("fp32", "int8"):
        session = ort.InferenceSession(f"{folder}/{manifest.variants[name].file}",
                                       providers=["CPUExecutionProvider"])
        out[name] = session.run(manifest.outputs, feeds)[0].tolist()
    print(json.dumps(out))
""")


def test_folder_serves_without_torch(exported: Path, run_dir: Path):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    texts = ["a wonderful and moving film , the best movie of the year", "awful", "i hated it"]
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_TORCH, str(exported), json.dumps(texts)],
        capture_output=True, text=True, cwd=root, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    onnx = json.loads(done.stdout.strip().splitlines()[-1])
    model = AutoModelForSequenceClassification.from_pretrained(str(run_dir / "student")).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(run_dir / "student"))
    batch = tokenizer(texts, padding=True, return_tensors="pt", return_token_type_ids=False)
    with torch.inference_mode():
        expected = model(**batch).logits.numpy()
    assert np.max(np.abs(np.array(onnx["fp32"]) - expected)) <= 1e-4
    assert (np.array(onnx["int8"]).argmax(1) == expected.argmax(1)).all()


def test_report_chain(exported: Path):
    report = json.loads((exported / "report.json").read_text())
    names = [row["name"] for row in report["models"]]
    assert names == ["teacher (PyTorch)", "student (PyTorch)", "student fp32 (ONNX Runtime)",
                     "student INT8 (ONNX Runtime)", "student INT8 dynamic (ONNX Runtime; answers depend on the batch)"]
    assert report["export"]["chain"] == names
    for row in report["models"]:
        assert row["measured_in"] == "export"
        assert set(row["latency_ms"]) == {"1", "32"}
        assert all(ms > 0 for ms in row["latency_ms"].values())
        assert 0.0 <= row["accuracy"] <= 1.0
    # the run's own fields survive; the re-measured rows replace the run's latency numbers
    assert report["training"] == {"student": {"steps": 10, "seconds": 1.5}}
    # the run's plots are copied (the missing one dropped); the comparison is redrawn
    assert report["plots"] == ["curves.png", "comparison.png"]
    assert (exported / "curves.png").read_bytes() == b"\x89PNG not really"
    redrawn = (exported / "comparison.png").read_bytes()
    assert redrawn.startswith(b"\x89PNG\r\n") and len(redrawn) > 1000
    teacher, student = report["models"][0], report["models"][1]
    assert report["speedup"]["32"] == round(
        teacher["latency_ms"]["32"] / student["latency_ms"]["32"], 4)  # recomputed
    assert report["retention"]["accuracy"] == round(student["accuracy"] / teacher["accuracy"], 4)
    assert report["models"][0]["latency_ms"] != {"1": 9.0, "32": 90.0}
    assert report["models"][0]["parameters"] > 1
    speedup = report["export"]["speedup_vs_teacher"]
    assert set(speedup) == set(names[1:])
    assert "student INT8 (ONNX Runtime)" in (exported / "report.md").read_text()


def test_max_validation_examples_and_no_timing(run_dir: Path, tmp_path: Path):
    from distill.folder_export import export_model_folder

    config = fast_config(run_dir, tmp_path / "small", max_validation_examples=10,
                         variants=("fp32",), latency=None, report_dir=tmp_path)
    info = json.loads((run_dir / "student" / "distill_info.json").read_text())
    assert info["teacher_dir"]
    manifest = export_model_folder(config)
    assert list(manifest.variants) == ["fp32"]
    assert manifest.variants["fp32"].validation.examples == 10
    report = json.loads((tmp_path / "small" / "report.json").read_text())
    assert report["export"]["validation_examples"] == 10
    assert report["export"]["latency"] is None
    assert all(row["latency_ms"] == {} for row in report["models"])


def test_refuses_to_overwrite(exported: Path, run_dir: Path):
    from distill.folder_export import export_model_folder

    before = sha256_file(exported / "manifest.json")
    with pytest.raises(FileExistsError, match="not empty"):
        export_model_folder(fast_config(run_dir, exported, variants=("fp32",)))
    assert sha256_file(exported / "manifest.json") == before


def test_overwrite_replaces_the_folder(folder_copy: Path, run_dir: Path):
    from distill.folder_export import export_model_folder

    (folder_copy / "stale.txt").write_text("from an older export")
    config = fast_config(run_dir, folder_copy, variants=("fp32",), latency=None, overwrite=True)
    manifest = export_model_folder(config)
    assert list(manifest.variants) == ["fp32"]
    assert not (folder_copy / "stale.txt").exists()
    assert not (folder_copy / "model.int8.onnx").exists()
    assert sorted(p.name for p in folder_copy.parent.iterdir()) == [folder_copy.name]


def test_graph_has_dynamic_batch_and_sequence(exported: Path):
    import onnx

    for name in ("model.onnx", "model.int8.onnx"):
        graph = onnx.load(str(exported / name)).graph
        assert [i.name for i in graph.input] == ["input_ids", "attention_mask"]
        for tensor in graph.input:
            assert tensor.type.tensor_type.elem_type == onnx.TensorProto.INT64
            dims = [d.dim_param for d in tensor.type.tensor_type.shape.dim]
            assert dims == ["batch", "sequence"]
        assert [o.name for o in graph.output] == ["logits"]
        assert graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


@pytest.mark.parametrize("variant", ["auto", "fp32"])
def test_service_runtime_runs_the_folder(exported: Path, run_dir: Path, variant: str):
    """The seam with the service: its runtime loads the folder and reproduces the student."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from service.serving.loading import load_runtime
    from service.settings import Settings

    settings = Settings(model_repository=exported.parent, variant=variant, intra_op_threads=1)
    runtime = load_runtime(exported, settings)
    assert runtime.variant == ("int8" if variant == "auto" else "fp32")  # auto on CPU: int8
    texts = ["the best movie of the year , i loved every minute of it", "a dull mess"]
    ids = [e.ids for e in runtime.encode(texts, truncation=True)]
    logits = runtime.run(ids)
    model = AutoModelForSequenceClassification.from_pretrained(str(run_dir / "student")).eval()
    width = max(len(i) for i in ids)
    input_ids = torch.tensor([i + [0] * (width - len(i)) for i in ids])
    mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i in ids])
    with torch.inference_mode():
        expected = model(input_ids=input_ids, attention_mask=mask).logits.numpy()
    assert (logits.argmax(1) == expected.argmax(1)).all()
    if variant == "fp32":
        assert np.max(np.abs(logits - expected)) <= 1e-4


def test_an_export_without_attention_fusion_says_so(run_dir, tmp_path, monkeypatch, caplog):
    from distill.export import graph
    from distill.folder_export import export_model_folder

    fuse = graph.optimize_bert

    def without_attention(*args, **kwargs):  # what a transformers version whose graph ONNX Runtime cannot fuse gives
        return {op: n for op, n in fuse(*args, **kwargs).items() if op != "Attention"}

    monkeypatch.setattr(graph, "optimize_bert", without_attention)
    output = tmp_path / "sentiment"
    export_model_folder(fast_config(run_dir, output, variants=("fp32",), latency=None))
    report = json.loads((output / "report.json").read_text())
    assert any("did not fuse the attention" in note for note in report["export"]["notes"])
    assert "did not fuse the attention" in (output / "report.md").read_text()
    assert "did not fuse the attention" in caplog.text
