"""The teacher's stored sentence embeddings: computed once, keyed by teacher + corpus + length +
pooling, written whole or not at all, and read by training in place of the teacher's forward pass."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from distill.cli import app
from distill.data import DataError
from distill.tasks.embeddings import targets
from distill.tasks.embeddings.evaluate import embed
from distill.tasks.embeddings.models import load_embedder
from distill.teacher import load_tokenizer
from tests import tiny

SENTENCES = [s for s, _ in tiny.labelled_sentences()][:12]


@pytest.fixture(scope="module")
def encoder(embedding_teacher):
    return load_embedder(str(embedding_teacher)), load_tokenizer(str(embedding_teacher))


def _store(encoder, folder, sentences=SENTENCES, max_seq_len=32, said=None):
    model, tokenizer = encoder
    return targets.teacher_embeddings(model, "tiny/teacher", tokenizer, sentences, max_seq_len, folder,
                                      say=(said.append if said is not None else lambda _: None))


def test_the_store_holds_the_teachers_embeddings_in_order(encoder, tmp_path):
    stored = _store(encoder, tmp_path)
    model, tokenizer = encoder
    direct = embed("teacher", model, tokenizer, SENTENCES, 32, 5)
    assert stored.dtype == np.float16 and stored.shape == direct.shape
    assert np.abs(stored.astype(np.float32) - direct).max() < 2e-3
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].startswith("tiny-teacher-") and not any("partial" in f for f in files)


def test_the_store_is_reused_and_a_changed_corpus_or_length_is_a_new_one(encoder, tmp_path):
    said = []
    _store(encoder, tmp_path, said=said)
    _store(encoder, tmp_path, said=said)
    assert said[0].startswith("computing") and said[1].startswith("teacher embeddings of 12 sentences read")
    _store(encoder, tmp_path, sentences=SENTENCES[:-1])
    _store(encoder, tmp_path, max_seq_len=16)
    assert len(list(tmp_path.glob("*.npy"))) == 3


def test_a_killed_computation_leaves_nothing_that_is_reused(encoder, tmp_path, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(targets, "compute_embeddings", killed)
    with pytest.raises(KeyboardInterrupt):
        _store(encoder, tmp_path)
    assert list(tmp_path.glob("*.npy")) == []


def test_a_store_made_by_another_teacher_is_an_error_naming_it(encoder, tmp_path):
    _store(encoder, tmp_path)
    meta = next(tmp_path.glob("*.json"))
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "teacher": "other", "fingerprint": "0" * 64}))
    with pytest.raises(DataError, match="made by teacher 'other'"):
        _store(encoder, tmp_path)


def test_training_reads_the_store_instead_of_running_the_teacher(embedding_teacher, sentences_csv, tmp_path,
                                                                  monkeypatch):
    calls = []
    original = targets.compute_embeddings
    monkeypatch.setattr(targets, "compute_embeddings", lambda *a, **k: (calls.append(1), original(*a, **k)))
    cache = tmp_path / "cache"
    for run in ("a", "b"):
        result = CliRunner().invoke(app, [
            "run", "--task", "feature-extraction", "--teacher", str(embedding_teacher), "--data", str(sentences_csv),
            "--output", str(tmp_path / run), "--epochs", "1", "--batch-size", "8", "--max-seq-len", "32",
            "--alpha-cos", "0", "--embedding-cache", str(cache), "--logging-steps", "1"])
        assert result.exit_code == 0, result.output
    assert calls == [1] and len(list(cache.glob("*.npy"))) == 1
    history = json.loads((tmp_path / "b" / "report.json").read_text())["training"]["student"]["history"]
    assert any("loss_mse" in h for h in history) and not any("loss_cos" in h for h in history)
