"""The validation sample an export leaves in the folder, and the service's start-up check of an
unvalidated variant (fp16 exported without a GPU) against fp32 on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelfolder.manifest import ModelFolderError, load_model_folder, read_manifest, write_manifest
from modelfolder.sample import read_sample
from modelfolder.variants import CheckLimits, check_variant
from service.providers import CPU, CUDA
from service.runtime.build import variant_candidates
from service.serving.loading import load_runtime
from service.settings import Settings
from service.tasks.registry import get_task


def settings_for(folder: Path, **values) -> Settings:
    return Settings(model_repository=folder.parent, intra_op_threads=1, **values)


def test_export_writes_a_seeded_sample_of_validation_inputs(exported: Path):
    manifest = load_model_folder(exported)
    entry = manifest.validation_sample
    assert entry is not None and entry.file == "validation_sample.jsonl"
    sequences = read_sample(exported, manifest)
    assert len(sequences) == entry.examples == 72  # fewer validation examples than the sample size
    runtime = load_runtime(exported, settings_for(exported, variant="fp32"))
    for ids in sequences:
        assert ids[0] == runtime.tokenizer.token_to_id("[CLS]") and ids[-1] == runtime.sep_id
        assert len(ids) <= runtime.max_seq_len


def test_unvalidated_fp16_is_checked_against_fp32_and_used_when_it_passes(exported: Path):
    runtime = load_runtime(exported, settings_for(exported, variant="fp16"))
    assert runtime.variant == "fp16"
    check = runtime.checks["fp16"]
    assert check.status == "passed" and check.against == "fp32" and check.provider == CPU
    assert check.examples == 72 and check.agreement == 1.0 and 0 < check.max_abs_diff <= 0.05


def test_a_variant_that_disagrees_with_fp32_fails_its_check(exported: Path, folder_copy: Path):
    """fp16's file replaced by the other model of the tests: it no longer computes what fp32 does."""
    manifest = read_manifest(folder_copy)
    fp16 = manifest.variants["fp16"]
    reversed_graph = _negated_logits(folder_copy / manifest.variants["fp32"].file, folder_copy / fp16.file)
    fp16.sha256, fp16.size_bytes = reversed_graph
    write_manifest(folder_copy, manifest)
    with pytest.raises(ModelFolderError, match="failed its start-up check: .*agreement 0.00%"):
        load_runtime(folder_copy, settings_for(folder_copy, variant="fp16"))
    # without the check, an explicit choice is served as it is
    checks = load_runtime(folder_copy, settings_for(folder_copy, variant="fp16", check_unvalidated=False)).checks
    assert "fp16" not in checks and checks["fp16 alone vs batched"].status == "passed"


def _negated_logits(fp32: Path, target: Path) -> tuple[str, int]:
    """A copy of the fp32 graph whose logits are negated: every label flips."""
    import onnx
    from onnx import helper

    from modelfolder.manifest import sha256_file

    model = onnx.load(str(fp32))
    graph = model.graph
    output = graph.output[0].name
    for node in graph.node:
        node.output[:] = [f"{o}_raw" if o == output else o for o in node.output]
    graph.node.append(helper.make_node("Neg", [f"{output}_raw"], [output]))
    onnx.save(model, str(target))
    return sha256_file(target), target.stat().st_size


def test_without_a_sample_auto_skips_the_unvalidated_variant_and_reports_why(exported: Path, folder_copy: Path):
    manifest = read_manifest(folder_copy)
    (folder_copy / manifest.validation_sample.file).unlink()
    manifest.validation_sample = None
    write_manifest(folder_copy, manifest)
    runtime = load_runtime(folder_copy, settings_for(folder_copy, variant="fp16"))
    assert runtime.variant == "fp16"  # asked for explicitly: served, with the reason it is unchecked
    assert runtime.checks["fp16"].status == "skipped" and "no validation sample" in runtime.checks["fp16"].note


def test_auto_on_cuda_tries_unvalidated_fp16_first_then_fp32(exported: Path):
    manifest = load_model_folder(exported)
    assert not manifest.variants["fp16"].recommended
    assert variant_candidates(manifest, "auto", CUDA, exported) == ["fp16", "fp32"]
    assert variant_candidates(manifest, "auto", CUDA, exported, check_unvalidated=False) == ["fp32"]
    assert variant_candidates(manifest, "auto", CPU, exported) == ["int8", "fp32"]
    manifest.variants["fp16"].validation.status = "failed"  # validated on a GPU and failed: never
    assert variant_candidates(manifest, "auto", CUDA, exported) == ["fp32"]


def test_check_rules_per_task():
    sequences = [[1, 2, 3], [1, 2], [1, 2, 3, 4]]
    logits = {3: [0.0, 1.0], 2: [2.0, 0.0], 4: [0.5, 0.4]}

    def reference(batch):
        return np.array([logits[len(s)] for s in batch], dtype=np.float32)

    def close(batch):
        return reference(batch) + 0.01

    def one_flipped(batch):  # the 4-token input's two labels are 0.1 apart: a small shift flips it
        out = reference(batch)
        out[[len(s) == 4 for s in batch], 1] += 0.2
        return out

    labels, scores, spans = (get_task(t).agreement for t in ("text-classification", "regression", "question-answering"))
    assert check_variant("fp16", close, reference, sequences, labels, CPU).status == "passed"
    flipped = check_variant("fp16", one_flipped, reference, sequences, labels, CPU,
                            CheckLimits(max_abs_diff=0.5))
    assert flipped.status == "failed" and flipped.agreement == pytest.approx(2 / 3)
    loose = check_variant("fp16", one_flipped, reference, sequences, scores, CPU,
                          CheckLimits(max_abs_diff=0.5, min_agreement=0.5))
    assert loose.status == "passed"

    def qa_outputs(padding: float):  # (batch, 2, length): start on token 1, end on the last real token
        def run(batch):
            width = max(map(len, batch))
            out = np.zeros((len(batch), 2, width), dtype=np.float32)
            for row, seq in enumerate(batch):
                out[row, 0, 1] = out[row, 1, len(seq) - 1] = 5.0
                out[row, :, len(seq):] = padding  # garbage at padding positions: not compared
            return out
        return run

    qa = check_variant("fp16", qa_outputs(9.0), qa_outputs(-9.0), sequences, spans, CPU)
    assert qa.status == "passed" and qa.max_abs_diff == 0.0

    def broken(batch):
        raise RuntimeError("CUDA kernel failed")

    failed = check_variant("fp16", broken, reference, sequences, labels, CUDA)
    assert failed.status == "failed" and "CUDA kernel failed" in failed.note


def test_models_endpoint_reports_the_check(exported: Path):
    from fastapi.testclient import TestClient

    from service.main import create_app
    from tests.service.conftest import wait_ready

    settings = settings_for(exported, models=[exported.name], variant="fp16", warmup_batches=1)
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        info = client.get(f"/v1/models/{exported.name}").json()
        answer = client.post("/v1/classify", json={"inputs": "a fine film"})
    assert info["variant"] == "fp16"
    check = info["checks"]["fp16"]
    assert check["status"] == "passed" and check["against"] == "fp32" and check["examples"] == 72
    assert answer.status_code == 200 and answer.json()[0]["label"] in ("negative", "positive")
