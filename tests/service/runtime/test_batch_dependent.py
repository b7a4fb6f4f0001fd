"""Same input, same answer at start-up: a variant whose answers move with its batch neighbours (a
real dynamic INT8 graph of a tiny classifier) is not served unless the operator accepts it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from modelfolder.manifest import ModelFolderError, load_model_folder, write_manifest
from modelfolder.sample import write_sample
from service.main import create_app
from service.providers import CPU
from service.runtime.build import variant_candidates
from service.serving.loading import load_runtime
from tests.service.conftest import make_settings, wait_ready
from tests.service.model_folders import SENTIMENT_LABELS, _variant, build_classifier_folder


def _sharpen_classifier(path, factor: float) -> None:
    """Scale the last layer's weights: a random tiny model's logits are so flat that the batch's
    effect on them sits near the tolerance; scaled, it is far above (and fp32's rounding still far below)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.name.endswith("classifier.weight") and "pre_classifier" not in tensor.name:
            scaled = numpy_helper.to_array(tensor) * factor
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(scaled, tensor.name))
    onnx.save(model, str(path))


@pytest.fixture(scope="module")
def dynamic_folder(tmp_path_factory):
    """A classifier whose `int8` is dynamically quantised, written as an older export wrote it
    (nothing in the manifest says so), with a validation sample of varied lengths."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    repository = tmp_path_factory.mktemp("dynamic")
    folder = build_classifier_folder(repository / "sentiment", SENTIMENT_LABELS, seed=3)
    _sharpen_classifier(folder / "model.onnx", factor=100.0)
    quantize_dynamic(str(folder / "model.onnx"), str(folder / "model.int8.onnx"), weight_type=QuantType.QInt8)
    manifest = load_model_folder(folder, verify_checksums=False)
    manifest.variants["fp32"] = _variant(folder, "model.onnx", "fp32", "random tiny test model, last layer scaled")
    manifest.variants["int8"] = _variant(folder, "model.int8.onnx", "int8", "dynamic INT8, unmarked")
    rng = np.random.default_rng(0)
    vocab = json.loads((folder / "tokenizer.json").read_text())["model"]["vocab"]
    ids = sorted(vocab.values())[5:]
    manifest.validation_sample = write_sample(
        folder, [[2, *rng.choice(ids, size=int(n)).tolist(), 3] for n in rng.integers(1, 29, size=48)])
    write_manifest(folder, manifest)
    return repository


def test_auto_does_not_serve_a_variant_that_answers_differently_in_a_batch(dynamic_folder):
    runtime = load_runtime(dynamic_folder / "sentiment", make_settings(dynamic_folder))
    assert runtime.variant == "fp32"
    refused, served = runtime.checks["int8 alone vs batched"], runtime.checks["fp32 alone vs batched"]
    assert refused.status == "failed" and refused.max_abs_diff > 1e-4 and "depend on the batch" in refused.note
    assert served.status == "passed" and served.max_abs_diff <= 1e-4


def test_asking_for_it_by_name_names_the_variant_the_difference_and_the_option(dynamic_folder):
    with pytest.raises(ModelFolderError, match=r"'int8' answers depend on the batch.*moved by up to .*"
                                               r"--accept-batch-dependent"):
        load_runtime(dynamic_folder / "sentiment", make_settings(dynamic_folder, variant="int8"))
    runtime = load_runtime(dynamic_folder / "sentiment",
                           make_settings(dynamic_folder, variant="int8", accept_batch_dependent=True))
    assert runtime.variant == "int8" and runtime.checks["int8 alone vs batched"].status == "failed"


def test_a_variant_marked_dynamic_is_left_out_of_auto_unless_accepted(dynamic_folder, tmp_path):
    folder = dynamic_folder / "sentiment"
    manifest = load_model_folder(folder)
    manifest.variants["int8"].quantization = "dynamic"
    assert variant_candidates(manifest, "auto", CPU, folder) == ["fp32"]
    assert variant_candidates(manifest, "auto", CPU, folder, accept_batch_dependent=True) == ["int8", "fp32"]
    static = manifest.variants["int8"].model_copy(update={"quantization": "static"})
    manifest.variants = {"int8-dynamic": manifest.variants["int8"], "int8": static, "fp32": manifest.variants["fp32"]}
    assert variant_candidates(manifest, "auto", CPU, folder, accept_batch_dependent=True) == [
        "int8", "int8-dynamic", "fp32"]


def test_models_listing_reports_the_check(dynamic_folder):
    with TestClient(create_app(make_settings(dynamic_folder))) as client:
        wait_ready(client)
        model = next(m for m in client.get("/v1/models").json()["models"] if m["name"] == "sentiment")
    assert model["variant"] == "fp32"
    assert model["checks"]["int8 alone vs batched"]["status"] == "failed"
