"""Variant and provider choice, padding and truncation of a loaded model."""

from __future__ import annotations

import numpy as np
import pytest

from modelfolder.manifest import ModelFolderError, load_model_folder
from service.providers import CPU, CUDA, choose_providers
from service.runtime.build import choose_variant
from service.serving.loading import load_runtime
from tests.service.conftest import make_settings


def test_providers_auto_prefers_cuda_when_present():
    assert choose_providers(None, [CUDA, CPU]) == [CUDA, CPU]
    assert choose_providers(None, [CPU]) == [CPU]
    assert choose_providers([CPU], [CUDA, CPU]) == [CPU]
    with pytest.raises(ModelFolderError, match="TensorrtExecutionProvider"):
        choose_providers(["TensorrtExecutionProvider"], [CPU])


def test_variant_auto_by_provider_and_explicit_choice(repository):
    folder = repository / "sentiment"
    manifest = load_model_folder(folder)
    assert choose_variant(manifest, "auto", CPU, folder) == "int8"
    assert choose_variant(manifest, "auto", CUDA, folder) == "fp32"  # no fp16 variant here
    assert choose_variant(manifest, "fp32", CPU, folder) == "fp32"
    with pytest.raises(ModelFolderError, match="no 'fp16' variant"):
        choose_variant(manifest, "fp16", CPU, folder)
    for variant in manifest.variants.values():
        variant.recommended = False
    with pytest.raises(ModelFolderError, match="no recommended variant"):
        choose_variant(manifest, "auto", CPU, folder)


def test_runtime_pads_and_truncates(repository):
    runtime = load_runtime(repository / "sentiment", make_settings(repository))
    long_text = " ".join(["great"] * 50)
    (full,) = runtime.encode([long_text], truncation=False)
    (cut,) = runtime.encode([long_text], truncation=True)
    assert len(full.ids) == 52 and len(cut.ids) == runtime.max_seq_len == 32
    assert cut.ids[-1] == full.ids[-1]  # [SEP] kept
    short = runtime.encode(["a dull film"], truncation=False)[0].ids
    alone, padded = runtime.run([short]), runtime.run([short, cut.ids])
    assert padded.shape == (2, 2)
    np.testing.assert_allclose(alone[0], padded[0], atol=1e-5)
