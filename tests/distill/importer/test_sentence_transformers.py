"""A sentence-transformers folder (Transformer, Pooling from 1_Pooling/config.json, Normalize) imports
with its own pooling, and the served embeddings are sentence-transformers' `encode` (cosine >= 0.9999)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from distill.importer.import_checkpoint import ImportConfig, import_checkpoint
from tests.distill.importer.checkpoints import write_checkpoint
from tests.service.conftest import serving

TEXTS = ["a wonderful and moving film", "the acting is terrible, and the story is bad", "Ada lives in Lisbon"]


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_served_embeddings_are_encode(tmp_path, pooling):
    from sentence_transformers import SentenceTransformer, models

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder = write_checkpoint(tmp_path / "encoder", "bert", "encoder")
        transformer = models.Transformer(str(encoder))
        pooled = models.Pooling(transformer.get_word_embedding_dimension(), pooling_mode=pooling)
        model = SentenceTransformer(modules=[transformer, pooled, models.Normalize()], device="cpu")
        model.save(str(tmp_path / "st"))
        manifest, _ = import_checkpoint(ImportConfig(str(tmp_path / "st"), tmp_path / "models" / "st",
                                                     variants=("fp32",), latency=None, sample_size=16))
    assert manifest.embedding.pooling == pooling and manifest.embedding.normalize
    expected = SentenceTransformer(str(tmp_path / "st"), device="cpu").encode(TEXTS)
    with serving(tmp_path / "models") as client:
        response = client.post("/v1/embeddings", json={"model": "st", "input": TEXTS})
    assert response.status_code == 200, response.text
    for want, row in zip(expected, response.json()["data"]):
        got = np.asarray(row["embedding"], dtype=np.float32)
        assert float(want @ got / np.linalg.norm(want) / np.linalg.norm(got)) >= 0.9999
